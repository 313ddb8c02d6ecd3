package org.latent4j.train;

import java.util.function.Consumer;
import org.latent4j.dsl.PixelCnnSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.Node;
import org.latent4j.graph.Ops;
import org.latent4j.graph.Planner;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;
import org.latent4j.kernel.PixelCnnKernels;
import org.latent4j.model.PixelCnnPrior;
import org.latent4j.runtime.Executor;

/** Trains a {@link PixelCnnPrior} on code index grids: Adam on the mean -log likelihood per grid, the engine's training plan. */
public final class PixelCnnTrainer {
    private PixelCnnTrainer() {}

    /** How a prior is trained: epochs over the index rows, batch size, Adam's learning rate, seed (initialization and shuffling). */
    public record FitConfig(int epochs, int batch, float learningRate, long seed) {
        public FitConfig {
            if (epochs < 1 || batch < 1 || !(learningRate > 0f) || !Float.isFinite(learningRate)) {
                throw new IllegalArgumentException("PixelCNN prior training needs epochs >= 1, batch >= 1 and a positive learning rate, got "
                        + epochs + ", " + batch + ", " + learningRate);
            }
        }

        public static FitConfig defaults() {
            return new FitConfig(10, 64, 1e-3f, 42);
        }
    }

    /** A prior at its initial parameters (the masked taps zero). */
    public static PixelCnnPrior initial(PixelCnnSpec spec, long seed) {
        Graph g = Graph.pixelCnn(spec);
        float[] p = Trainer.initialParams(g, seed);
        for (Node n : g.nodes()) {
            if (n.op() instanceof Ops.MaskedConv mc) {
                PixelCnnKernels.mask(p, g.param(n.params().get(0)).offset(), mc.geometry().outChannels(), mc.geometry().inChannels(),
                        mc.geometry().kernelHeight(), mc.typeA());
            }
        }
        return PixelCnnPrior.of(spec, p);
    }

    /**
     * Trains a prior on index rows (each {@code spec.positions()} indices in raster order) with Adam;
     * {@code log} gets one line per epoch (the mean bits per grid of the epoch's batches). Rows are
     * shuffled each epoch by Philox(seed, epoch); the same arguments give the same bits for any thread count.
     */
    public static PixelCnnPrior fit(int[][] index, PixelCnnSpec spec, FitConfig cfg, Parallelism par, Consumer<String> log) {
        if (index.length == 0) {
            throw new IllegalArgumentException("a PixelCNN prior needs at least one index row");
        }
        PixelCnnPrior prior = initial(spec, cfg.seed());
        float[] all = prior.grid(index, 0, index.length);
        Graph g = prior.graph();
        int n = index.length, pos = spec.positions(), batch = Math.min(cfg.batch(), n);
        Executor ex = new Executor(Planner.training(g), par, batch);
        float[] grads = new float[g.paramCount()];
        Optimizer opt = new Optimizer(OptimizerSpec.adam(cfg.learningRate()), g.trainableCount(), par);
        int[] order = new int[n];
        float[] u = new float[n];
        float[] x = new float[batch * pos];
        for (int e = 0; e < cfg.epochs(); e++) {
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Philox.fillUniform(u, 0, n, cfg.seed(), 1L + e, 0);
            for (int i = n - 1; i > 0; i--) {
                int j = Math.min(i, (int) (u[i] * (i + 1)));
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            double sum = 0;
            long t0 = System.nanoTime();
            for (int b0 = 0; b0 < n; b0 += batch) {
                int b = Math.min(batch, n - b0);
                for (int r = 0; r < b; r++) {
                    System.arraycopy(all, order[b0 + r] * pos, x, r * pos, pos);
                }
                ex.load(g.input, x, 0, b);
                ex.run(prior.parameters(), grads, b, cfg.seed(), e, 1f);
                float[] loss = ex.value(g.recon);
                for (int r = 0; r < b; r++) {
                    sum += loss[r];
                }
                opt.step(prior.parameters(), grads, cfg.learningRate());
            }
            double bits = sum / n / Math.log(2);
            if (!Double.isFinite(bits)) {
                throw new IllegalStateException("PixelCNN prior training diverged in epoch " + (e + 1) + " (loss " + bits + ")");
            }
            if (log != null) {
                log.accept(String.format(java.util.Locale.ROOT, "prior epoch %d/%d: %.2f bits per grid (train, %d grids, %.1f s)", e + 1,
                        cfg.epochs(), bits, n, (System.nanoTime() - t0) / 1e9));
            }
        }
        return prior;
    }

}
