package org.latent4j.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.HelmholtzSpec;
import org.latent4j.kernel.Bernoulli;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Reductions;
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
 *
 * <p>The epochs, batches, step counter and running sums are the trainers' one {@link EpochLoop}
 * (the procedure's step is this loop's batch), so a run saves checkpoints as a graph model's does
 * ({@link CheckpointPolicy}, {@link HelmholtzCheckpoint}) and {@link #resume} continues one bitwise.
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
        return fit(spec, train, validation, cfg, procedure, evaluationSamples, listener, onEpoch, null);
    }

    /**
     * As above, saving checkpoints as {@code checkpoints} says (null: none), each replacing the
     * last atomically; {@link #resume} continues one bitwise as if the run had never stopped.
     */
    public static Result fit(HelmholtzSpec spec, Dataset train, Dataset validation, TrainingConfig cfg, TrainingProcedure procedure,
                             int evaluationSamples, TrainingListener listener, Consumer<Epoch> onEpoch, CheckpointPolicy checkpoints) {
        checkData(spec, train, validation);
        HelmholtzMachine m = HelmholtzMachine.initial(spec, cfg.seed(), 1f);
        visibleBiasFromData(m, train);
        return fit(m, train, validation, cfg, procedure, evaluationSamples, listener, onEpoch, checkpoints);
    }

    /**
     * As above from a given machine (its copy is trained; {@code start} is left as it was): to
     * continue a run, or to start from other initial weights. The seed drives the shuffle and the draws.
     */
    public static Result fit(HelmholtzMachine start, Dataset train, Dataset validation, TrainingConfig cfg, TrainingProcedure procedure,
                             int evaluationSamples, TrainingListener listener, Consumer<Epoch> onEpoch) {
        return fit(start, train, validation, cfg, procedure, evaluationSamples, listener, onEpoch, null);
    }

    /** As above, with checkpoints (null: none). */
    public static Result fit(HelmholtzMachine start, Dataset train, Dataset validation, TrainingConfig cfg, TrainingProcedure procedure,
                             int evaluationSamples, TrainingListener listener, Consumer<Epoch> onEpoch, CheckpointPolicy checkpoints) {
        checkData(start.spec(), train, validation);
        checkEvaluationSamples(evaluationSamples);
        String fingerprint = checkpoints == null ? null : Checkpoint.fingerprint(train);
        return run(start.copy(), null, new Checkpoint.Progress(1, 0, 0, 0, 0, 0, 0, 0, 0), new ArrayList<>(), train, validation, cfg,
                procedure, evaluationSamples, listener, onEpoch, checkpoints, fingerprint);
    }

    /**
     * Continues the run saved in a checkpoint file ({@link HelmholtzCheckpoint}) to
     * {@code cfg.epochs()} epochs: the parameters after each step, and the history, are bitwise
     * those of a run that never stopped, with any thread count. The recipe (all of cfg but
     * threads and epochs), the procedure, the evaluation samples and the training data must be
     * those of the checkpoint; anything else is refused with a message saying what differs.
     */
    public static Result resume(Path checkpointFile, Dataset train, Dataset validation, TrainingConfig cfg, TrainingProcedure procedure,
                                int evaluationSamples, TrainingListener listener, Consumer<Epoch> onEpoch, CheckpointPolicy checkpoints)
            throws IOException {
        return resume(HelmholtzCheckpoint.read(checkpointFile), checkpointFile, train, validation, cfg, procedure, evaluationSamples,
                listener, onEpoch, checkpoints);
    }

    /** As above, for a checkpoint already read from {@code checkpointFile} (named in messages). */
    public static Result resume(HelmholtzCheckpoint c, Path checkpointFile, Dataset train, Dataset validation, TrainingConfig cfg,
                                TrainingProcedure procedure, int evaluationSamples, TrainingListener listener, Consumer<Epoch> onEpoch,
                                CheckpointPolicy checkpoints) {
        if (!c.recipe().equals(cfg.recipe())) {
            throw new IllegalArgumentException(checkpointFile + ": the checkpoint was made with another training recipe ("
                    + TrainingConfig.recipeDifference(c.recipe(), cfg.recipe()) + "); resume with the same settings");
        }
        if (!c.procedure().equals(procedure.toString())) {
            throw new IllegalArgumentException(checkpointFile + ": the checkpoint was made by " + c.procedure() + ", not " + procedure
                    + "; resume with the same procedure and rates");
        }
        if (c.evaluationSamples() != evaluationSamples) {
            throw new IllegalArgumentException(checkpointFile + ": the checkpoint's run evaluates with " + c.evaluationSamples()
                    + " samples, not " + evaluationSamples + "; resume with the same");
        }
        Checkpoint.Progress at = c.progress();
        if (at.epoch() > cfg.epochs() + 1 || (at.epoch() == cfg.epochs() + 1 && at.position() > 0)) {
            throw new IllegalArgumentException(checkpointFile + ": the checkpoint is already " + (at.epoch() - 1)
                    + " epochs into the run; resume with at least " + (at.epoch() - 1) + " epochs, not " + cfg.epochs());
        }
        HelmholtzSpec spec = c.model().spec();
        checkData(spec, train, validation);
        checkEvaluationSamples(evaluationSamples);
        String fp = Checkpoint.fingerprint(train);
        if (!c.dataFingerprint().equals(fp)) {
            throw new IllegalArgumentException(checkpointFile + ": the checkpoint was made on other training data (fingerprint "
                    + c.dataFingerprint() + "; " + train.source() + " gives " + fp + ")");
        }
        int batch = Math.min(cfg.batchSize(), train.rows()), perEpoch = (train.rows() + batch - 1) / batch;
        if (at.position() >= train.rows() || at.position() % batch != 0 || at.rowsCounted() != at.position()
                || at.step() != (long) (at.epoch() - 1) * perEpoch + at.position() / batch) {
            throw new IllegalArgumentException(checkpointFile + ": the progress (epoch " + at.epoch() + ", position " + at.position()
                    + ", step " + at.step() + ", rows " + at.rowsCounted() + ") does not fit " + train.rows() + " rows in batches of " + batch);
        }
        for (Object[] g : new Object[][] {{"generative", c.generative(), c.model().generative().length},
                {"recognition", c.recognition(), c.model().recognition().length}}) {
            HelmholtzCheckpoint.Group s = (HelmholtzCheckpoint.Group) g[1];
            int[] sizes = Optimizer.stateSizes(cfg.optimizer(), (Integer) g[2]);
            if (s.firstMoment().length != sizes[0] || s.secondMoment().length != sizes[1]) {
                throw new IllegalArgumentException(checkpointFile + ": the " + g[0] + " optimizer's state holds " + s.firstMoment().length
                        + " + " + s.secondMoment().length + " values but " + cfg.optimizer().kind() + " needs " + sizes[0] + " + " + sizes[1]);
            }
        }
        return run(c.model().copy(), c, at, new ArrayList<>(c.history()), train, validation, cfg, procedure, evaluationSamples, listener,
                onEpoch, checkpoints, fp);
    }

    private static void checkEvaluationSamples(int evaluationSamples) {
        if (evaluationSamples < 1 || evaluationSamples > HelmholtzMachine.MAX_SAMPLES) {
            throw new IllegalArgumentException("evaluation samples must be from 1 to " + HelmholtzMachine.MAX_SAMPLES + ", got "
                    + evaluationSamples);
        }
    }

    private static Result run(HelmholtzMachine m, HelmholtzCheckpoint resumed, Checkpoint.Progress start, List<Epoch> history,
                              Dataset train, Dataset validation, TrainingConfig cfg, TrainingProcedure procedure, int evaluationSamples,
                              TrainingListener listener, Consumer<Epoch> onEpoch, CheckpointPolicy checkpoints, String fingerprint) {
        try (Parallelism par = Parallelism.of(cfg.threads())) {
            Loop loop = new Loop(m, train, validation, cfg, procedure, evaluationSamples, par, listener, onEpoch, checkpoints, history,
                    fingerprint);
            if (resumed != null) {
                loop.generative.restore(resumed.generative().steps(), resumed.generative().firstMoment(), resumed.generative().secondMoment());
                loop.recognition.restore(resumed.recognition().steps(), resumed.recognition().firstMoment(),
                        resumed.recognition().secondMoment());
            }
            if (checkpoints != null) {
                org.latent4j.io.AtomicFiles.removeLeftovers(checkpoints.file());
            }
            loop.run(start);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
     * One run on the trainers' {@link EpochLoop}: its buffers and optimizers. {@link #step}
     * applies one batch by the procedure and returns the sum over the batch's rows of the
     * training bound; {@link #batch} is that step in the loop (the epoch's bound sum in
     * {@code recon}, its rows in {@code counted}); {@link #endEpoch} measures the validation
     * figures, saves the checkpoint and reports the epoch. A step allocates nothing.
     */
    static final class Loop extends EpochLoop {
        final HelmholtzMachine m;
        final Dataset train;
        final Dataset validation;
        /** The validation rows binarized once (null without validation data). */
        final float[] validationX;
        final int evaluationSamples;
        final TrainingProcedure procedure;
        final Parallelism par;
        final TrainingListener listener;
        final Consumer<Epoch> onEpoch;
        final List<Epoch> history;
        final String fingerprint;
        final HelmholtzMachine.Workspace w;
        final Optimizer generative;
        final Optimizer recognition;
        final float generativeRate;
        final float recognitionRate;
        final int samples;
        final boolean sleep;
        final float[] binary;
        final double[] logWeights;
        final long seed;

        /** A loop without validation, listener or checkpoints (to run single steps). */
        Loop(HelmholtzMachine m, Dataset train, TrainingConfig cfg, TrainingProcedure procedure, Parallelism par) {
            this(m, train, null, cfg, procedure, 1, par, null, null, null, new ArrayList<>(), null);
        }

        Loop(HelmholtzMachine m, Dataset train, Dataset validation, TrainingConfig cfg, TrainingProcedure procedure, int evaluationSamples,
             Parallelism par, TrainingListener listener, Consumer<Epoch> onEpoch, CheckpointPolicy checkpoints, List<Epoch> history,
             String fingerprint) {
            super(cfg, train.rows(), checkpoints);
            this.m = m;
            this.train = train;
            this.validation = validation;
            this.evaluationSamples = evaluationSamples;
            this.procedure = procedure;
            this.par = par;
            this.listener = listener == null ? TrainingListener.NONE : listener;
            this.onEpoch = onEpoch;
            this.history = history;
            this.fingerprint = fingerprint;
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
            if ((long) batch * samples > 1 << 20) {
                throw new IllegalArgumentException("batch " + batch + " x " + samples + " samples is more than 2^20 rows per step");
            }
            w = new HelmholtzMachine.Workspace(m, batch * samples, par);
            generative = new Optimizer(cfg.optimizer(), m.generative().length, par);
            recognition = new Optimizer(cfg.optimizer(), m.recognition().length, par);
            binary = new float[batch * train.features()];
            logWeights = new double[batch * samples];
            seed = cfg.seed();
            validationX = validation == null ? null : binarized(validation, cfg.seed());
        }

        /** One procedure step on the batch; a bound that is not finite stops the run. */
        @Override
        void batch(int epoch, int start, int n, long step) {
            double b = step(start, n, step);
            if (!Double.isFinite(b)) {
                throw new TrainingFailedException("training stopped at epoch " + epoch + ", step " + step + ": the bound is " + b
                        + "; try smaller learning rates" + lastSavedNote(), step);
            }
            recon += b;
            counted += n;
        }

        @Override
        void afterBatch(int epoch, int done) {
            listener.onBatch(epoch, done, order.length, -recon / done);
        }

        @Override
        void endEpoch(int epoch, double seconds, Checkpoint.Progress next) throws IOException {
            double vb = Double.NaN, vl = Double.NaN;
            if (validationX != null) {
                HelmholtzMachine.Estimate e = m.logLikelihood(validationX, validation.rows(), evaluationSamples,
                        cfg.seed() + EVALUATION_SEED_OFFSET, par);
                vb = e.meanBound();
                vl = e.meanLogLikelihood();
            }
            Epoch ep = new Epoch(epoch, recon / order.length, vb, vl, evaluationSamples, seconds, order.length / seconds);
            history.add(ep);
            if (savesAtEnd(epoch)) {
                save(next);
            }
            if (onEpoch != null) {
                onEpoch.accept(ep);
            }
        }

        /** The checkpoint this run saved last, and its step (null and -1 before the first). */
        private Path lastSaved;
        private long lastSavedStep = -1;

        /** Saves a checkpoint, never one with a NaN or infinite parameter. */
        @Override
        void save(Checkpoint.Progress p) throws IOException {
            for (float[] a : new float[][] {m.generative(), m.recognition()}) {
                if (!Reductions.allFinite(a, 0, a.length)) {
                    throw new TrainingFailedException("training stopped at epoch " + p.epoch() + ", step " + p.step() + ": the "
                            + (a == m.generative() ? "generative" : "recognition") + " parameters hold a NaN or infinity after the"
                            + " last step; not saved" + lastSavedNote() + ". Try smaller learning rates", p.step());
                }
            }
            new HelmholtzCheckpoint(m, HelmholtzCheckpoint.Group.of(generative), HelmholtzCheckpoint.Group.of(recognition), p, history,
                    cfg.recipe(), procedure.toString(), evaluationSamples, fingerprint).write(checkpoints.file());
            lastSaved = checkpoints.file();
            lastSavedStep = p.step();
        }

        private String lastSavedNote() {
            return lastSaved == null ? "" : "; the last checkpoint this run saved is " + lastSaved + " (after step " + lastSavedStep + ")";
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
