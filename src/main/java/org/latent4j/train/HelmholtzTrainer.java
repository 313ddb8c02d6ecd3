package org.latent4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.HelmholtzSpec;
import org.latent4j.kernel.Bernoulli;
import org.latent4j.kernel.Parallelism;
import org.latent4j.model.HelmholtzMachine;

/**
 * Trains a Helmholtz machine by a {@link TrainingProcedure} ({@link TrainingProcedure.WakeSleep}
 * or {@link TrainingProcedure.ReweightedWakeSleep}): per epoch a shuffle from the seed (the
 * graph trainer's), then one procedure step per batch on two parameter groups, the generative
 * (G, b, the prior's logits) and the recognition (R, c) arenas, each with an optimizer of the
 * config's kind and the procedure's rate.
 *
 * <p>Data values in [0, 1] are binarized afresh at every step (x ~ Bernoulli(value), dynamic
 * binarization; binary data is unchanged); validation data is binarized once from a fixed
 * stream. The visible biases start at logit(mean of the training data) (clamped to
 * [1e-3, 1 - 1e-3]), the weights at N(0, 1) / sqrt(fan_in). After each epoch: the mean training
 * bound of the epoch's wake passes (the ELBO's sample for wake-sleep, the K-sample bound for
 * RWS), and on validation data the ELBO and the importance-sampled log p(x) with
 * {@code evaluationSamples} samples.
 *
 * <p>The same seed gives bitwise the same parameters for any thread count: the draws depend
 * only on (seed, step, layer, index), the products are thread-count invariant, and the
 * reductions run in a fixed order. A step allocates nothing.
 */
public final class HelmholtzTrainer {
    private HelmholtzTrainer() {}

    static final long TRAIN_STREAM = 0x8_0000_0000L;
    static final long VALIDATION_BINARIZE_STREAM = 0x9_0000_0000L;
    /** Added to the seed for the importance samples of evaluations (per epoch and by {@code eval}). */
    public static final long EVALUATION_SEED_OFFSET = 0x5EED;

    /** One epoch's figures (nats per row; the validation ones NaN without validation data). */
    public record Epoch(int epoch, double trainBound, double validationBound, double validationLogLikelihood, int evaluationSamples,
                        double seconds, double rowsPerSecond) {}

    public record Result(HelmholtzMachine model, List<Epoch> history) {}

    /**
     * Trains from the seed's initial machine for {@code cfg.epochs()} epochs in batches of
     * {@code cfg.batchSize()}; {@code onEpoch} (may be null) sees each epoch's figures.
     */
    public static Result fit(HelmholtzSpec spec, Dataset train, Dataset validation, TrainingConfig cfg, TrainingProcedure procedure,
                             int evaluationSamples, TrainingListener listener, Consumer<Epoch> onEpoch) {
        checkData(spec, train, validation);
        HelmholtzMachine m = HelmholtzMachine.initial(spec, cfg.seed(), 1f);
        visibleBiasFromData(m, train);
        return fit(m, train, validation, cfg, procedure, evaluationSamples, listener, onEpoch);
    }

    /**
     * As above from a given machine (its copy is trained; {@code start} is left as it was): to
     * continue a run, or to start from other initial weights. The seed drives the shuffle and the draws.
     */
    public static Result fit(HelmholtzMachine start, Dataset train, Dataset validation, TrainingConfig cfg, TrainingProcedure procedure,
                             int evaluationSamples, TrainingListener listener, Consumer<Epoch> onEpoch) {
        HelmholtzSpec spec = start.spec();
        checkData(spec, train, validation);
        if (evaluationSamples < 1 || evaluationSamples > HelmholtzMachine.MAX_SAMPLES) {
            throw new IllegalArgumentException("evaluation samples must be from 1 to " + HelmholtzMachine.MAX_SAMPLES + ", got "
                    + evaluationSamples);
        }
        HelmholtzMachine m = start.copy();
        List<Epoch> history = new ArrayList<>();
        try (Parallelism par = Parallelism.of(cfg.threads())) {
            Loop loop = new Loop(m, train, cfg, procedure, par);
            float[] valX = validation == null ? null : binarized(validation, cfg.seed());
            TrainingListener l = listener == null ? TrainingListener.NONE : listener;
            long step = 0;
            for (int epoch = 1; epoch <= cfg.epochs(); epoch++) {
                Trainer.shuffle(loop.order, cfg.shuffle() ? cfg.seed() : 0, epoch, cfg.shuffle());
                long t0 = System.nanoTime();
                double boundSum = 0;
                for (int from = 0; from < train.rows(); from += loop.batch) {
                    int n = Math.min(loop.batch, train.rows() - from);
                    double b = loop.step(from, n, step);
                    if (!Double.isFinite(b)) {
                        throw new TrainingFailedException("training stopped at epoch " + epoch + ", step " + step + ": the bound is " + b
                                + "; try smaller learning rates", step);
                    }
                    boundSum += b;
                    step++;
                    l.onBatch(epoch, from + n, train.rows(), -boundSum / (from + n));
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                double vb = Double.NaN, vl = Double.NaN;
                if (valX != null) {
                    HelmholtzMachine.Estimate e = m.logLikelihood(valX, validation.rows(), evaluationSamples,
                            cfg.seed() + EVALUATION_SEED_OFFSET, par);
                    vb = e.meanBound();
                    vl = e.meanLogLikelihood();
                }
                Epoch ep = new Epoch(epoch, boundSum / train.rows(), vb, vl, evaluationSamples, sec, train.rows() / sec);
                history.add(ep);
                if (onEpoch != null) {
                    onEpoch.accept(ep);
                }
            }
        }
        return new Result(m, history);
    }

    private static void checkData(HelmholtzSpec spec, Dataset train, Dataset validation) {
        if (train.features() != spec.visible()) {
            throw new IllegalArgumentException("the Helmholtz machine has " + spec.visible() + " visible units but " + train.source()
                    + " has " + train.features() + " features per row");
        }
        if (validation != null && validation.features() != spec.visible()) {
            throw new IllegalArgumentException("validation data (" + validation.source() + ") has " + validation.features()
                    + " features but the Helmholtz machine has " + spec.visible() + " visible units");
        }
        checkUnitInterval(train);
        if (validation != null) {
            checkUnitInterval(validation);
        }
    }

    private static void checkUnitInterval(Dataset d) {
        float[] x = d.x();
        for (int i = 0; i < d.rows() * d.features(); i++) {
            if (!(x[i] >= 0f && x[i] <= 1f)) {
                throw new IllegalArgumentException(d.source() + ": row " + i / d.features() + ", column " + i % d.features() + " is " + x[i]
                        + "; a Helmholtz machine's binary units take values in [0, 1] (probabilities, binarized as it trains)");
            }
        }
    }

    /** As {@link #binarized}, after checking that every value is in [0, 1] (the message names the row and column). */
    public static float[] binarizedChecked(Dataset d, long seed) {
        checkUnitInterval(d);
        return binarized(d, seed);
    }

    /** The rows binarized once: x ~ Bernoulli(value) from (seed, the validation stream, index). */
    public static float[] binarized(Dataset d, long seed) {
        float[] out = new float[d.rows() * d.features()];
        Bernoulli.sample(out, 0, d.x(), 0, out.length, seed, VALIDATION_BINARIZE_STREAM, 0);
        return out;
    }

    /** b_0 = logit(clamp(mean of each column, 1e-3, 1 - 1e-3)). */
    public static void visibleBiasFromData(HelmholtzMachine m, Dataset d) {
        int cols = d.features();
        double[] mean = new double[cols];
        for (int r = 0; r < d.rows(); r++) {
            for (int c = 0; c < cols; c++) {
                mean[c] += d.x()[r * cols + c];
            }
        }
        int off = m.generativeBias(0);
        for (int c = 0; c < cols; c++) {
            double p = Math.min(1 - 1e-3, Math.max(1e-3, mean[c] / d.rows()));
            m.generative()[off + c] = (float) Math.log(p / (1 - p));
        }
    }

    /**
     * One run's buffers and optimizers. {@link #step} applies one batch by the procedure and
     * returns the sum over the batch's rows of the training bound.
     */
    static final class Loop {
        final HelmholtzMachine m;
        final Dataset train;
        final TrainingProcedure procedure;
        final HelmholtzMachine.Workspace w;
        final Optimizer generative;
        final Optimizer recognition;
        final float generativeRate;
        final float recognitionRate;
        final int samples;
        final boolean sleep;
        final int batch;
        final int[] order;
        final float[] binary;
        final double[] logWeights;
        final long seed;

        Loop(HelmholtzMachine m, Dataset train, TrainingConfig cfg, TrainingProcedure procedure, Parallelism par) {
            this.m = m;
            this.train = train;
            this.procedure = procedure;
            switch (procedure) {
                case TrainingProcedure.WakeSleep ws -> {
                    generativeRate = ws.wakeRate();
                    recognitionRate = ws.sleepRate();
                    samples = 1;
                    sleep = true;
                }
                case TrainingProcedure.ReweightedWakeSleep rws -> {
                    generativeRate = rws.generativeRate();
                    recognitionRate = rws.recognitionRate();
                    samples = rws.samples();
                    sleep = rws.sleepPhase();
                }
                case TrainingProcedure.Backprop b -> throw new IllegalArgumentException("a Helmholtz machine's binary stochastic units"
                        + " have no gradient to back-propagate through: train it by wake-sleep or reweighted wake-sleep");
            }
            batch = Math.min(cfg.batchSize(), train.rows());
            if ((long) batch * samples > 1 << 20) {
                throw new IllegalArgumentException("batch " + batch + " x " + samples + " samples is more than 2^20 rows per step");
            }
            w = new HelmholtzMachine.Workspace(m, batch * samples, par);
            generative = new Optimizer(cfg.optimizer(), m.generative().length, par);
            recognition = new Optimizer(cfg.optimizer(), m.recognition().length, par);
            order = new int[train.rows()];
            binary = new float[batch * train.features()];
            logWeights = new double[batch * samples];
            seed = cfg.seed();
        }

        /** Applies one batch (rows order[start .. start + n)); returns the sum of the rows' training bounds. */
        double step(int start, int n, long step) {
            int d = train.features(), k = samples;
            long stream = TRAIN_STREAM + step * 64;
            for (int r = 0; r < n; r++) {
                System.arraycopy(train.x(), order[start + r] * d, binary, r * d, d);
            }
            Bernoulli.sample(binary, 0, binary, 0, n * d, seed, stream, 0);
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < k; j++) {
                    System.arraycopy(binary, r * d, w.h[0], (r * k + j) * d, d);
                }
            }
            int rows = n * k;
            // Wake: h ~ q(h | x), scored by p.
            m.recognize(w, rows, true, seed, stream, 0);
            m.scoreGenerative(w, rows);
            double bound = 0;
            for (int i = 0; i < rows; i++) {
                logWeights[i] = w.logP[i] - w.logQ[i];
            }
            // Row scales: -w_k / n (the optimizers minimize), w_k the normalized importance weights (1 for K = 1).
            for (int r = 0; r < n; r++) {
                double lse = Bernoulli.logSumExp(logWeights, r * k, k);
                bound += lse - Math.log(k);
                for (int j = 0; j < k; j++) {
                    w.rowScale[r * k + j] = (float) (-Math.exp(logWeights[r * k + j] - lse) / n);
                }
            }
            m.generativeGradient(w, rows);
            boolean wakeQ = procedure instanceof TrainingProcedure.ReweightedWakeSleep;
            if (wakeQ) {
                if (sleep) {
                    for (int i = 0; i < rows; i++) {
                        w.rowScale[i] *= 0.5f;
                    }
                }
                m.recognitionGradient(w, rows, false);
            }
            generative.step(m.generative(), w.generativeGradient, generativeRate);
            if (sleep) {
                // Sleep: (x, h) ~ p dreamed top down; q learns to predict the dreamed layers bottom up.
                m.dream(w, n, true, seed, stream + 32, 0);
                m.recognitionProbabilities(w, n);
                float s = (wakeQ ? -0.5f : -1f) / n;
                for (int i = 0; i < n; i++) {
                    w.rowScale[i] = s;
                }
                m.recognitionGradient(w, n, wakeQ);
            }
            recognition.step(m.recognition(), w.recognitionGradient, recognitionRate);
            return bound;
        }
    }
}
