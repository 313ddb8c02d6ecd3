package org.latent4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.Planner;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Reductions;
import org.latent4j.runtime.Executor;
import org.latent4j.train.Optimizer;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;

/**
 * Where one training step's time goes: the steps of the Trainer's loop (batch copy, forward,
 * loss sums, backward, gradient check, Adam) run as the Trainer runs them, each timed, and the
 * plan's products (recorded once from the step itself) timed alone on the same GEMM at the same
 * thread count, which splits forward and backward into their GEMMs and the rest (bias,
 * activations, the latent, the loss: the element-wise work). Beside it the physical limit: the
 * step's multiply-adds at the FMA probe's rate of this thread count.
 */
public final class StepSplit {
    private StepSplit() {}

    /** Milliseconds per step, each part a mean over the timed steps. */
    public record Result(int threads, int batch, double stepMs, double batchCopyMs, double forwardMs, double forwardGemmMs,
                         double backwardMs, double backwardGemmMs, double lossSumsMs, double finiteCheckMs, double optimizerMs,
                         double stepGflop, double probeGflops, int products) {
        /** The step's multiply-adds (x2) at the probe's rate: the floor no implementation can go under. */
        public double limitMs() {
            return stepGflop / probeGflops * 1e3;
        }

        public double elementwiseMs() {
            return forwardMs - forwardGemmMs + backwardMs - backwardGemmMs;
        }

        public double samplesPerSecond() {
            return batch / stepMs * 1e3;
        }
    }

    /** Times {@code timed} steps after {@code warm} untimed ones, on batches of {@code batch} rows of {@code train}. */
    public static Result measure(ModelSpec spec, Dataset train, int threads, int batch, int warm, int timed, long seed) {
        ModelSpec s = spec.withInputDim(train.features());
        Graph g = Graph.build(s).fuse();
        float[] params = Trainer.initialParams(g, seed, TrainingConfig.WeightInit.BY_ACTIVATION);
        float[] grads = new float[params.length];
        int d = train.features();
        float[] batchX = new float[batch * d];
        SplittableRandom rnd = new SplittableRandom(seed);
        try (Parallelism par = Parallelism.of(threads)) {
            Executor ex = new Executor(Planner.training(g), par, batch);
            Optimizer opt = new Optimizer(OptimizerSpec.adam(1e-3f), g.trainableCount(), par);
            long[] t = new long[7];
            List<Gemm.Call> forwardCalls = new ArrayList<>(), backwardCalls = new ArrayList<>();
            for (int step = 0; step < warm + timed; step++) {
                boolean timing = step >= warm;
                boolean recording = step == warm - 1 || (warm == 0 && step == 0);
                long t0 = System.nanoTime();
                for (int r = 0; r < batch; r++) {
                    System.arraycopy(train.x(), rnd.nextInt(train.rows()) * d, batchX, r * d, d);
                }
                ex.load(g.input, batchX, 0, batch);
                long t1 = System.nanoTime();
                ex.gemm().record(recording ? forwardCalls : null);
                ex.forward(params, batch, seed, step);
                long t2 = System.nanoTime();
                double sink = Reductions.sumDouble(ex.value(g.recon), 0, batch) + Reductions.sumDouble(ex.value(g.kl), 0, batch);
                long t3 = System.nanoTime();
                ex.gemm().record(recording ? backwardCalls : null);
                ex.backward(params, grads, batch, seed, step, 1f);
                ex.gemm().record(null);
                long t4 = System.nanoTime();
                boolean finite = Reductions.allFinite(grads, 0, grads.length) && Double.isFinite(sink);
                long t5 = System.nanoTime();
                if (finite) {
                    opt.step(params, grads, 1e-3f);
                }
                long t6 = System.nanoTime();
                if (timing) {
                    t[0] += t1 - t0;
                    t[1] += t2 - t1;
                    t[2] += t3 - t2;
                    t[3] += t4 - t3;
                    t[4] += t5 - t4;
                    t[5] += t6 - t5;
                    t[6] += t6 - t0;
                }
            }
            Gemm gemm = new Gemm(par);
            double fwdGemm = timeProducts(gemm, forwardCalls, timed), bwdGemm = timeProducts(gemm, backwardCalls, timed);
            double flop = 0;
            for (Gemm.Call c : forwardCalls) {
                flop += c.flops();
            }
            for (Gemm.Call c : backwardCalls) {
                flop += c.flops();
            }
            double probe = FmaProbe.peakGflops(par, threads, 300, 5);
            double n = timed * 1e6;
            return new Result(threads, batch, t[6] / n, t[0] / n, t[1] / n, fwdGemm, t[3] / n, bwdGemm, t[2] / n, t[4] / n, t[5] / n,
                    flop / 1e9, probe, forwardCalls.size() + backwardCalls.size());
        }
    }

    /** Mean milliseconds of one pass over the products, each on operands of its shape, repeated {@code reps} times. */
    private static double timeProducts(Gemm gemm, List<Gemm.Call> calls, int reps) {
        List<float[][]> operands = new ArrayList<>();
        List<float[]> packed = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(1);
        for (Gemm.Call c : calls) {
            float[] a = new float[c.m() * c.k()], b = new float[c.k() * c.n()], out = new float[c.m() * c.n()];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (r.nextDouble() - 0.5);
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) (r.nextDouble() - 0.5);
            }
            operands.add(new float[][] {a, b, out});
            packed.add(c.packed() ? Gemm.packB(c.transB(), c.k(), c.n(), b, 0, c.transB() ? c.k() : c.n()) : null);
        }
        long total = 0;
        for (int rep = -Math.min(reps, 20); rep < reps; rep++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < calls.size(); i++) {
                Gemm.Call c = calls.get(i);
                float[][] o = operands.get(i);
                int lda = c.transA() ? c.m() : c.k(), ldb = c.transB() ? c.k() : c.n();
                if (c.packed()) {
                    gemm.gemmPacked(o[2], 0, c.n(), c.transA(), c.m(), c.n(), c.k(), 1f, o[0], 0, lda, packed.get(i), 0f);
                } else {
                    gemm.gemm(o[2], 0, c.n(), c.transA(), c.transB(), c.m(), c.n(), c.k(), 1f, o[0], 0, lda, o[1], 0, ldb, 0f);
                }
            }
            if (rep >= 0) {
                total += System.nanoTime() - t0;
            }
        }
        return total / (reps * 1e6);
    }
}
