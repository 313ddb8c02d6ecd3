package org.latent4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Plan;
import org.latent4j.graph.Planner;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;
import org.latent4j.kernel.Reductions;
import org.latent4j.model.Autoencoder;
import org.latent4j.runtime.Executor;

/**
 * Trains a model spec on a data set: compiles the graph once (fused, planned), then for each
 * epoch shuffles (from the seed), runs the training plan on every batch and updates the
 * parameter arena with the optimizer. The same seed gives bitwise the same weights for any
 * thread count: the kernels are thread-count invariant, the shuffle and the reparameterization
 * noise depend only on (seed, epoch, step, index).
 */
public final class Trainer {
    private Trainer() {}

    /** Stream ids of the counter-based generator, kept apart from the per-step noise streams. */
    static final long INIT_STREAM = 0x1_0000_0000L;
    static final long VALIDATION_STREAM = 0x2_0000_0000L;

    /** A trained model and its history. */
    public record Result(Autoencoder model, List<EpochStats> history) {}

    public static Result fit(ModelSpec spec, Dataset train, Dataset validation, TrainingConfig cfg, TrainingListener listener) {
        ModelSpec s = spec.withInputDim(train.features());
        if (validation != null && validation.features() != train.features()) {
            throw new IllegalArgumentException("validation data (" + validation.source() + ") has " + validation.features()
                    + " features but the training data has " + train.features());
        }
        Graph g = Graph.build(s).fuse();
        float[] params = initialParams(g, cfg.seed(), cfg.weightInit());
        try (Parallelism par = Parallelism.of(cfg.threads())) {
            List<EpochStats> history = run(g, params, train, validation, cfg, par, listener);
            return new Result(Autoencoder.of(s, params), history);
        }
    }

    /** Xavier-uniform or He-normal weights (by the following activation), zero biases, from the seed. */
    public static float[] initialParams(Graph g, long seed) {
        return initialParams(g, seed, TrainingConfig.WeightInit.BY_ACTIVATION);
    }

    /** Initial parameters; {@code init} other than BY_ACTIVATION puts every weight on that scheme. */
    public static float[] initialParams(Graph g, long seed, TrainingConfig.WeightInit init) {
        float[] p = new float[g.paramCount()];
        int k = 0;
        for (ParamSpec ps : g.params().values()) {
            ParamSpec.Init scheme = ps.init() == ParamSpec.Init.ZERO ? ParamSpec.Init.ZERO : switch (init) {
                case BY_ACTIVATION -> ps.init();
                case HE -> ParamSpec.Init.HE;
                case XAVIER -> ParamSpec.Init.XAVIER;
            };
            switch (scheme) {
                case ZERO -> { }
                case HE -> {
                    Philox.fillNormal(p, ps.offset(), ps.size(), seed, INIT_STREAM + k, 0);
                    float sd = (float) Math.sqrt(2.0 / ps.fanIn());
                    for (int i = ps.offset(); i < ps.offset() + ps.size(); i++) {
                        p[i] *= sd;
                    }
                }
                case XAVIER -> {
                    Philox.fillUniform(p, ps.offset(), ps.size(), seed, INIT_STREAM + k, 0);
                    float a = (float) Math.sqrt(6.0 / (ps.fanIn() + ps.fanOut()));
                    for (int i = ps.offset(); i < ps.offset() + ps.size(); i++) {
                        p[i] = (2 * p[i] - 1) * a;
                    }
                }
            }
            k++;
        }
        return p;
    }

    static List<EpochStats> run(Graph g, float[] params, Dataset train, Dataset validation, TrainingConfig cfg,
                                Parallelism par, TrainingListener listener) {
        int b = Math.min(cfg.batchSize(), train.rows());
        Plan plan = Planner.training(g);
        Executor ex = new Executor(plan, par, b);
        Optimizer opt = new Optimizer(cfg.optimizer(), params.length, par);
        float[] grads = new float[params.length];
        int d = train.features();
        float[] batchX = new float[b * d];
        int[] order = new int[train.rows()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        List<EpochStats> history = new ArrayList<>();
        long step = 0;
        for (int epoch = 1; epoch <= cfg.epochs(); epoch++) {
            if (cfg.shuffle()) {
                shuffle(order, cfg.seed(), epoch);
            }
            long t0 = System.nanoTime();
            double recon = 0, kl = 0;
            int done = 0;
            for (int start = 0; start < order.length; start += b) {
                int n = Math.min(b, order.length - start);
                for (int r = 0; r < n; r++) {
                    System.arraycopy(train.x(), order[start + r] * d, batchX, r * d, d);
                }
                ex.load(g.input, batchX, 0, n);
                ex.run(params, grads, n, cfg.seed(), step, cfg.klWeight());
                double br = Reductions.sumDouble(ex.value(g.recon), 0, n), bk = g.kl >= 0 ? Reductions.sumDouble(ex.value(g.kl), 0, n) : 0;
                if (!Double.isFinite(br) || !Double.isFinite(bk)) {
                    throw new IllegalStateException("training diverged at epoch " + epoch + ", step " + step
                            + ": the " + (!Double.isFinite(br) ? "reconstruction" : "KL") + " loss is not finite"
                            + " (try a smaller learning rate or --clip)");
                }
                recon += br;
                kl += bk;
                if (cfg.clipNorm() > 0) {
                    Optimizer.clipByNorm(grads, cfg.clipNorm());
                }
                opt.step(params, grads, cfg.optimizer().learningRate());
                step++;
                done += n;
                listener.onBatch(epoch, done, order.length, (recon + cfg.klWeight() * kl) / done);
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            double[] val = validation == null ? new double[] {Double.NaN, Double.NaN}
                    : evaluate(g, params, validation, b, cfg.seed(), par);
            int rows = order.length;
            EpochStats st = new EpochStats(epoch, recon / rows, kl / rows, (recon + kl) / rows,
                    val[0], val[1], val[0] + val[1], sec, rows / sec);
            history.add(st);
            listener.onEpoch(st);
        }
        return history;
    }

    /** Mean reconstruction and KL per sample on a data set, one z sample each (fixed noise streams). */
    public static double[] evaluate(Graph g, float[] params, Dataset data, int batch, long seed, Parallelism par) {
        int b = Math.min(batch, data.rows());
        Plan plan = Planner.forward(g, 0, g.nodes().size() - 1);
        Executor ex = new Executor(plan, par, b);
        double recon = 0, kl = 0;
        int d = data.features();
        long stream = VALIDATION_STREAM;
        for (int start = 0; start < data.rows(); start += b) {
            int n = Math.min(b, data.rows() - start);
            ex.load(g.input, data.x(), start * d, n);
            ex.run(params, null, n, seed, stream++, 1f);
            recon += Reductions.sumDouble(ex.value(g.recon), 0, n);
            kl += g.kl >= 0 ? Reductions.sumDouble(ex.value(g.kl), 0, n) : 0;
        }
        return new double[] {recon / data.rows(), kl / data.rows()};
    }

    /** Fisher-Yates from a generator seeded by (seed, epoch) only. */
    static void shuffle(int[] order, long seed, int epoch) {
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = order.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
}
