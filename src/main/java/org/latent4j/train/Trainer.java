package org.latent4j.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
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

    /**
     * A trained model and its history; with early stopping, the best epoch (whose weights the
     * model holds when restoreBest) and whether the run stopped before its last epoch.
     */
    public record Result(Autoencoder model, List<EpochStats> history, int bestEpoch, boolean stoppedEarly) {}

    public static Result fit(ModelSpec spec, Dataset train, Dataset validation, TrainingConfig cfg, TrainingListener listener) {
        return fit(spec, train, validation, cfg, listener, null);
    }

    /**
     * Trains from the seed; with a {@link CheckpointPolicy} (may be null) saves checkpoints as it
     * goes, each replacing the last atomically. If a batch's loss or gradient is not finite the
     * run stops with a {@link TrainingFailedException} (the last checkpoint stays on disk) or
     * skips the batch, as {@link TrainingConfig#onNonFinite()} says.
     */
    public static Result fit(ModelSpec spec, Dataset train, Dataset validation, TrainingConfig cfg, TrainingListener listener,
                             CheckpointPolicy checkpoints) {
        return fit(spec, train, validation, cfg, listener, checkpoints, null);
    }

    /**
     * As above, on the embedding application's own pool (a web server's or a Spark executor's)
     * instead of a pool of {@code cfg.threads()} that latent4j starts and stops itself; the pool
     * is left running. The weights are bitwise the same either way.
     */
    public static Result fit(ModelSpec spec, Dataset train, Dataset validation, TrainingConfig cfg, TrainingListener listener,
                             CheckpointPolicy checkpoints, ForkJoinPool pool) {
        return fit(spec, train, validation, cfg, listener, checkpoints, pool, null);
    }

    /**
     * As above, starting from the given parameters (the model's whole arena, e.g. from
     * {@link StackedPretraining#pretrain}; copied, not changed) instead of the seed's initial
     * ones; null for the seed's. The seed still drives the shuffle and the noise.
     */
    public static Result fit(ModelSpec spec, Dataset train, Dataset validation, TrainingConfig cfg, TrainingListener listener,
                             CheckpointPolicy checkpoints, ForkJoinPool pool, float[] initial) {
        ModelSpec s = spec.withInputDim(train.features());
        checkValidation(train, validation, cfg);
        Graph g = Graph.build(s).fuse();
        if (initial != null && initial.length != g.paramCount()) {
            throw new IllegalArgumentException("initial parameters: the model has " + g.paramCount() + " but " + initial.length + " were given");
        }
        float[] params = initial != null ? initial.clone() : initialParams(g, cfg.seed(), cfg.weightInit());
        Checkpoint.Progress start = new Checkpoint.Progress(1, 0, 0, 0, 0, 0, 0, 0, 0);
        String fingerprint = checkpoints == null ? null : Checkpoint.fingerprint(train);
        return run(s, g, params, null, start, new ArrayList<>(), train, validation, cfg, listener, checkpoints, fingerprint, pool);
    }

    /**
     * Continues the run saved in a checkpoint file, to {@code cfg.epochs()} epochs: the weights
     * after each step are bitwise those of a run that never stopped, with any thread count. The
     * recipe (all of cfg but threads and epochs) and the training data must be those of the
     * checkpoint; anything else is refused with a message saying what differs.
     */
    public static Result resume(Path checkpointFile, Dataset train, Dataset validation, TrainingConfig cfg,
                                TrainingListener listener, CheckpointPolicy checkpoints) throws IOException {
        return resume(Checkpoint.read(checkpointFile), checkpointFile, train, validation, cfg, listener, checkpoints);
    }

    /** As above, for a checkpoint already read from {@code checkpointFile} (named in messages). */
    public static Result resume(Checkpoint c, Path checkpointFile, Dataset train, Dataset validation, TrainingConfig cfg,
                                TrainingListener listener, CheckpointPolicy checkpoints) {
        if (!c.recipe().equals(cfg.recipe())) {
            throw new IllegalArgumentException(checkpointFile + ": the checkpoint was made with another training recipe ("
                    + TrainingConfig.recipeDifference(c.recipe(), cfg.recipe()) + "); resume with the same settings");
        }
        Checkpoint.Progress at = c.progress();
        if (at.epoch() > cfg.epochs() + 1 || (at.epoch() == cfg.epochs() + 1 && at.position() > 0)) {
            throw new IllegalArgumentException(checkpointFile + ": the checkpoint is already " + (at.position() == 0
                    ? (at.epoch() - 1) + " epochs" : "in epoch " + at.epoch()) + " into the run; resume with at least "
                    + (at.position() == 0 ? at.epoch() - 1 : at.epoch()) + " epochs, not " + cfg.epochs());
        }
        if (c.spec().inputDim() != train.features()) {
            throw new IllegalArgumentException(checkpointFile + ": the model takes " + c.spec().inputDim() + " features but "
                    + train.source() + " has " + train.features());
        }
        String fp = Checkpoint.fingerprint(train);
        if (!c.dataFingerprint().equals(fp)) {
            throw new IllegalArgumentException(checkpointFile + ": the checkpoint was made on other training data (fingerprint "
                    + c.dataFingerprint() + "; " + train.source() + " gives " + fp + ")");
        }
        checkValidation(train, validation, cfg);
        if ((c.early() != null) != (cfg.earlyStopping() != null)) {
            throw new IllegalArgumentException(checkpointFile + ": the checkpoint was made " + (c.early() != null ? "with" : "without")
                    + " early stopping; resume the same way");
        }
        Graph g = Graph.build(c.spec()).fuse();
        int[] state = Optimizer.stateSizes(cfg.optimizer(), g.trainableCount());
        if (c.firstMoment().length != state[0] || c.secondMoment().length != state[1]) {
            throw new IllegalArgumentException(checkpointFile + ": the optimizer state holds " + c.firstMoment().length + " + "
                    + c.secondMoment().length + " values but " + cfg.optimizer().kind() + " needs " + state[0] + " + " + state[1]);
        }
        if (c.progress().position() > train.rows()) {
            throw new IllegalArgumentException(checkpointFile + ": position " + c.progress().position() + " is past the "
                    + train.rows() + " rows of the data");
        }
        return run(c.spec(), g, c.params(), c, c.progress(), new ArrayList<>(c.history()), train, validation, cfg, listener,
                checkpoints, fp, null);
    }

    /**
     * What {@link #steps} did: the state after the steps (a checkpoint not yet written: the
     * weights, the optimizer's moments and step count, and the progress, whose epoch and
     * position say where the next step would start), the steps taken (fewer than asked only when
     * the run reached {@code cfg.epochs()}), and the sums over the applied batches of the
     * reconstruction loss, the KL term and the weight penalties, with the rows they cover (their
     * mean loss is (reconstruction + beta kl + penalty) / rows).
     */
    public record Steps(Checkpoint state, long steps, double reconstructionSum, double klSum, double penaltySum, long rows) {}

    /**
     * Runs {@code steps} training steps on {@code train} from a given state, the same steps as
     * the training loop of {@link #fit} takes from there: the batches of the epoch and position
     * in {@code from.progress()} (the epoch's order from (seed, epoch)), the noise of the step
     * counter, the optimizer from its moments and step count. So a run cut into pieces by this
     * method (each piece starting from the state the last returned) gives bitwise the weights of
     * one unbroken {@link #fit} of the same recipe. The epoch-end measurements of {@code fit}
     * (validation, KL per dimension) are not made and nothing is written; {@code from} is not
     * changed. Early stopping does not apply here (it is refused). This is the local work of
     * data-parallel training (org.latent4j.spark): each worker runs it on its rows from the
     * shared state.
     *
     * @param pool the pool to run on, or null for a pool of {@code cfg.threads()}
     */
    public static Steps steps(Checkpoint from, Dataset train, TrainingConfig cfg, long steps, ForkJoinPool pool) {
        if (steps < 0) {
            throw new IllegalArgumentException("steps must not be negative, got " + steps);
        }
        if (cfg.earlyStopping() != null) {
            throw new IllegalArgumentException("early stopping watches whole runs; local steps take none");
        }
        ModelSpec s = from.spec();
        if (s.inputDim() != train.features()) {
            throw new IllegalArgumentException("the model takes " + s.inputDim() + " features but " + train.source() + " has "
                    + train.features());
        }
        Graph g = Graph.build(s).fuse();
        int[] sizes = Optimizer.stateSizes(cfg.optimizer(), g.trainableCount());
        if (from.params().length != g.paramCount() || from.firstMoment().length != sizes[0] || from.secondMoment().length != sizes[1]) {
            throw new IllegalArgumentException("the state holds " + from.params().length + " parameters and " + from.firstMoment().length
                    + " + " + from.secondMoment().length + " optimizer values; the model needs " + g.paramCount() + " and "
                    + cfg.optimizer().kind() + " " + sizes[0] + " + " + sizes[1]);
        }
        if (from.progress().position() > train.rows()) {
            throw new IllegalArgumentException("position " + from.progress().position() + " is past the " + train.rows() + " rows of "
                    + train.source());
        }
        try (Parallelism par = pool != null ? Parallelism.using(pool) : Parallelism.of(cfg.threads())) {
            Loop loop = new Loop(s, g, from.params().clone(), train, null, cfg, par, TrainingListener.NONE, null, new ArrayList<>(), null);
            loop.opt.restore(from.optimizerSteps(), from.firstMoment(), from.secondMoment());
            loop.stopAtStep = from.progress().step() + steps;
            loop.measureEpochs = false;
            loop.run(from.progress());
            Checkpoint.Progress end = loop.stoppedAt;
            Checkpoint state = new Checkpoint(s, loop.params, loop.opt.steps(), loop.opt.firstMoment(), loop.opt.secondMoment(), end,
                    loop.history, from.recipe(), from.dataFingerprint(), null);
            return new Steps(state, end.step() - from.progress().step(), loop.totalRecon, loop.totalKl, loop.totalPenalty, loop.totalRows);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void checkValidation(Dataset train, Dataset validation, TrainingConfig cfg) {
        checkValidation(train, validation);
        if (cfg.earlyStopping() != null && validation == null) {
            throw new IllegalArgumentException("early stopping watches the validation -ELBO: give validation data");
        }
    }

    private static void checkValidation(Dataset train, Dataset validation) {
        if (validation != null && validation.features() != train.features()) {
            throw new IllegalArgumentException("validation data (" + validation.source() + ") has " + validation.features()
                    + " features but the training data has " + train.features());
        }
    }

    private static Result run(ModelSpec spec, Graph g, float[] params, Checkpoint resumed, Checkpoint.Progress start,
                              List<EpochStats> history, Dataset train, Dataset validation, TrainingConfig cfg,
                              TrainingListener listener, CheckpointPolicy checkpoints, String fingerprint, ForkJoinPool pool) {
        try (Parallelism par = pool != null ? Parallelism.using(pool) : Parallelism.of(cfg.threads())) {
            Loop loop = new Loop(spec, g, params, train, validation, cfg, par, listener, checkpoints, history, fingerprint);
            if (resumed != null) {
                loop.opt.restore(resumed.optimizerSteps(), resumed.firstMoment(), resumed.secondMoment());
                loop.restoreEarly(resumed.early());
            }
            loop.run(start);
            return new Result(Autoencoder.of(spec, loop.finish()), history, loop.bestEpoch, loop.stopped);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
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
            if (init == TrainingConfig.WeightInit.PYTORCH && (ps.role() == ParamSpec.Role.WEIGHT || layerWeightOfBias(g, ps) != null)) {
                // PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for a weight and for its layer's bias, fan_in its
                // (rows x cols) weight's cols (a conv weight's second dimension times the kernel area).
                int fanIn = ps.role() == ParamSpec.Role.WEIGHT ? ps.cols() : layerWeightOfBias(g, ps).cols();
                Philox.fillUniform(p, ps.offset(), ps.size(), seed, INIT_STREAM + k, 0);
                float bound = (float) (1 / Math.sqrt(fanIn));
                for (int i = ps.offset(); i < ps.offset() + ps.size(); i++) {
                    p[i] = (2 * p[i] - 1) * bound;
                }
                k++;
                continue;
            }
            ParamSpec.Init scheme = ps.init() == ParamSpec.Init.ZERO || ps.init() == ParamSpec.Init.ONE ? ps.init() : switch (init) {
                case BY_ACTIVATION, PYTORCH -> ps.init();
                case HE -> ParamSpec.Init.HE;
                case XAVIER -> ParamSpec.Init.XAVIER;
            };
            switch (scheme) {
                case ZERO -> { }
                case ONE -> java.util.Arrays.fill(p, ps.offset(), ps.offset() + ps.size(), 1f);
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

    /** For a layer's bias ("x.bias" beside a trained weight "x.weight"), that weight; else null (batch norm's shift has none). */
    static ParamSpec layerWeightOfBias(Graph g, ParamSpec ps) {
        if (!ps.name().endsWith(".bias")) {
            return null;
        }
        ParamSpec w = g.params().get(ps.name().substring(0, ps.name().length() - ".bias".length()) + ".weight");
        return w != null && w.role() == ParamSpec.Role.WEIGHT ? w : null;
    }

    /**
     * The training loop of one run: its buffers, optimizer and position. Its own work allocates
     * nothing per step (Parallelism.forEach still makes a few task objects when threads > 1).
     */
    private static final class Loop extends EpochLoop {
        final ModelSpec spec;
        final Graph g;
        final float[] params;
        final float[] grads;
        final Dataset train;
        final Dataset validation;
        final Parallelism par;
        final TrainingListener listener;
        final List<EpochStats> history;
        final Executor ex;
        final Optimizer opt;
        /** Restarts the moments of parameters a state update replaced (re-seeded codes); made once, so a step allocates nothing. */
        final org.latent4j.graph.OpContext.OptimizerReset resetMoments;
        final int b;
        final float[] batchX;
        /** z samples per input (L; 1 for a model without a Gaussian latent). */
        final int samples;
        final int conditionWidth;
        /** Conditions of the training rows (rows x conditionWidth: context vectors or one-hot labels), or null. */
        final float[] conditions;
        final float[] batchC;
        /** Per-dimension KL weights for free bits, and the batch's per-dimension mean KL. */
        final float[] klDims;
        final double[] klDimMeans;
        /** {offset, size} of each weight tensor (the L1 / L2 penalties skip biases and variances). */
        final int[][] weightRanges;
        /** The penalty nodes, as an array (no iterator per step). */
        final int[] penaltyNodes;
        final int stepsPerEpoch;
        final String fingerprint;
        final float[] bestParams;
        double bestValue = Double.POSITIVE_INFINITY;
        int bestEpoch;
        final boolean[] chunkFinite;
        final java.util.function.IntConsumer finiteBody = this::checkChunk;
        /** For {@link Trainer#steps}: no epoch-end measurements, and the sums of the applied batches. */
        boolean measureEpochs = true;
        double totalRecon, totalKl, totalPenalty;
        long totalRows;

        Loop(ModelSpec spec, Graph g, float[] params, Dataset train, Dataset validation, TrainingConfig cfg, Parallelism par,
             TrainingListener listener, CheckpointPolicy checkpoints, List<EpochStats> history, String fingerprint) throws IOException {
            super(cfg, train.rows(), checkpoints);
            this.spec = spec;
            this.g = g;
            this.params = params;
            this.train = train;
            this.validation = validation;
            this.par = par;
            this.listener = listener;
            this.history = history;
            b = Math.min(cfg.batchSize(), train.rows());
            samples = g.kl >= 0 ? cfg.samples() : 1;
            checkBatchNormRows(g, train.rows(), b, samples);
            if ((long) b * samples > 1 << 20) {
                throw new IllegalArgumentException("batch " + b + " x " + samples + " z samples is more than 2^20 rows per step");
            }
            ex = new Executor(Planner.training(g), par, b * samples);
            opt = new Optimizer(cfg.optimizer(), g.trainableCount(), par);
            resetMoments = opt::resetMoments;
            grads = new float[params.length];
            batchX = new float[b * samples * train.features()];
            conditionWidth = spec.conditionDim();
            conditions = conditionWidth > 0 ? conditions(train, conditionWidth) : null;
            batchC = conditionWidth > 0 ? new float[b * samples * conditionWidth] : null;
            klDims = g.kl >= 0 ? new float[spec.latent().dim()] : null;
            klDimMeans = g.kl >= 0 ? new double[spec.latent().dim()] : null;
            weightRanges = weightRanges(g);
            penaltyNodes = g.penalties.stream().mapToInt(Integer::intValue).toArray();
            stepsPerEpoch = (train.rows() + b - 1) / b;
            bestParams = cfg.earlyStopping() == null ? null : new float[params.length];
            chunkFinite = new boolean[par.threads()];
            this.fingerprint = fingerprint;
            if (checkpoints != null) {
                org.latent4j.io.AtomicFiles.removeLeftovers(checkpoints.file());
            }
        }

        private long revivedAtStart;

        @Override
        void beginEpoch(int epoch) {
            revivedAtStart = QuantizerHealth.revivedSoFar(g, params);
        }

        /** Back-propagation: the graph's forward and backward passes on the batch, then the optimizer step (or a skip). */
        @Override
        void batch(int epoch, int start, int n, long step) {
            int d = train.features();
            int rows = n * samples;
            for (int r = 0; r < n; r++) {
                for (int l = 0; l < samples; l++) {
                    System.arraycopy(train.x(), order[start + r] * d, batchX, (r * samples + l) * d, d);
                    if (conditions != null) {
                        System.arraycopy(conditions, order[start + r] * conditionWidth, batchC, (r * samples + l) * conditionWidth,
                                conditionWidth);
                    }
                }
            }
            ex.load(g.input, batchX, 0, rows);
            if (conditions != null) {
                ex.load(g.condition, batchC, 0, rows);
            }
            ex.forward(params, rows, cfg.seed(), step);
            double br = Reductions.sumDouble(ex.value(g.recon), 0, rows), bk = g.kl >= 0 ? Reductions.sumDouble(ex.value(g.kl), 0, rows) : 0;
            double bp = 0;
            for (int pen : penaltyNodes) {
                bp += Reductions.sumDouble(ex.value(pen), 0, rows);
            }
            float klWeight = klWeightFor(step, rows, bk);
            ex.backward(params, grads, rows, cfg.seed(), step, klWeight);
            bp += weightPenalties() * rows;
            boolean finite = Double.isFinite(br) && Double.isFinite(bk) && Double.isFinite(bp) && gradientsFinite();
            if (finite) {
                recon += br;
                kl += bk;
                penalty += bp;
                counted += rows;
                totalRecon += br;
                totalKl += bk;
                totalPenalty += bp;
                totalRows += rows;
                if (cfg.clipNorm() > 0) {
                    Optimizer.clipByNorm(grads, cfg.clipNorm());
                }
                opt.step(params, grads, cfg.schedule().rate(cfg.optimizer().learningRate(), step, stepsPerEpoch, cfg.epochs()));
                ex.updateRunningStatistics(params, resetMoments);
            } else if (cfg.onNonFinite() == TrainingConfig.OnNonFinite.SKIP) {
                skipped++;
            } else {
                throw failure(epoch, step, start, rows, br, bk);
            }
        }

        @Override
        void afterBatch(int epoch, int done) {
            listener.onBatch(epoch, done, order.length, counted == 0 ? Double.NaN : (recon + cfg.klWeight() * kl + penalty) / counted);
        }

        @Override
        void endEpoch(int epoch, double sec, Checkpoint.Progress next) throws IOException {
            if (counted == 0) {
                throw new TrainingFailedException("training stopped at epoch " + epoch + ": every batch of the epoch was skipped"
                        + " (its loss or gradient was NaN or infinite)" + lastSavedNote()
                        + ". Try a smaller learning rate or look for non-finite values in the data.", next.step());
            }
            Evaluation val = validation == null || !measureEpochs ? null : evaluation(g, params, validation, b, cfg.seed(), par);
            Evaluation latent = val != null || g.kl < 0 || !measureEpochs ? val : evaluation(g, params, train, b, cfg.seed(), par);
            double rows = counted;
            EpochStats st = new EpochStats(epoch, recon / rows, kl / rows, (recon + kl) / rows,
                    val == null ? Double.NaN : val.reconstruction(), val == null ? Double.NaN : val.kl(),
                    val == null ? Double.NaN : val.reconstruction() + val.kl(), sec, order.length / sec, skipped,
                    penalty / rows, latent == null ? new double[0] : latent.klPerDimension(), latent == null ? -1 : latent.activeUnits());
            history.add(st);
            EarlyStopping es = cfg.earlyStopping();
            if (es != null) {
                if (st.validationNegElbo() < bestValue - es.minDelta()) {
                    bestValue = st.validationNegElbo();
                    bestEpoch = epoch;
                    System.arraycopy(params, 0, bestParams, 0, params.length);
                } else if (epoch - bestEpoch >= es.patience()) {
                    stopped = true;
                }
            }
            if (savesAtEnd(epoch)) {
                save(next);
            }
            listener.onEpoch(st);
            if (QuantizerHealth.quantizer(g) != null) {
                listener.onQuantizerHealth(QuantizerHealth.measure(g, params, train, b, par, epoch, revivedAtStart));
            }
        }

        /**
         * The KL gradient's weight for this step: beta by the KL schedule (the capacity form
         * from the batch's mean KL); with free bits, also the weight of each dimension (beta
         * where the batch's mean KL of the dimension is above the floor, else 0), set on the executor.
         */
        private float klWeightFor(long step, int rows, double batchKlSum) {
            if (g.kl < 0) {
                return 0f;
            }
            float w = cfg.klSchedule().weight(cfg.klWeight(), step, (long) stepsPerEpoch * cfg.epochs(), batchKlSum / rows);
            if (cfg.freeBits() > 0f) {
                klPerDimension(klDimMeans, ex.value(g.mu), ex.value(g.logvar), rows, klDims.length);
                for (int j = 0; j < klDims.length; j++) {
                    klDims[j] = klDimMeans[j] > cfg.freeBits() ? w : 0f;
                }
                ex.klDimensionWeights(klDims);
            }
            return w;
        }

        /**
         * Adds the L1 / L2 penalties' gradients to the weights' (l1 sign(w) + l2 w) and returns
         * the penalty's value (0 without penalties).
         */
        private double weightPenalties() {
            float l1 = cfg.l1(), l2 = cfg.l2();
            if (l1 == 0f && l2 == 0f) {
                return 0;
            }
            double v = 0;
            for (int[] r : weightRanges) {
                for (int i = r[0], end = r[0] + r[1]; i < end; i++) {
                    float w = params[i];
                    grads[i] += l1 * Math.signum(w) + l2 * w;
                    v += l1 * Math.abs(w) + 0.5 * l2 * (double) w * w;
                }
            }
            return v;
        }

        void restoreEarly(Checkpoint.Early early) {
            if (early != null) {
                bestValue = early.bestValue();
                bestEpoch = early.bestEpoch();
                stopped = early.stopped();
                System.arraycopy(early.bestParams(), 0, bestParams, 0, bestParams.length);
            }
        }

        /** The weights to hand back: the best epoch's when early stopping restores them, else the last. */
        float[] finish() {
            if (bestParams != null && cfg.earlyStopping().restoreBest() && bestEpoch > 0) {
                System.arraycopy(bestParams, 0, params, 0, params.length);
            }
            return params;
        }

        /** The checkpoint this run saved last, and its step (null and -1 before the first). */
        private java.nio.file.Path lastSaved;
        private long lastSavedStep = -1;

        /** Saves a checkpoint, never one with a NaN or infinite parameter (an update too large can make one). */
        @Override
        void save(Checkpoint.Progress p) throws IOException {
            if (!Reductions.allFinite(params, 0, params.length)) {
                Executor.NonFinite where = ex.findNonFinite(params, grads, 1, cfg.seed(), p.step(), cfg.klWeight());
                throw new TrainingFailedException("training stopped at epoch " + p.epoch() + ", step " + p.step()
                        + ": the update of the last step made a parameter NaN or infinite ("
                        + (where == null ? "?" : where.tensor() + ", element " + where.index())
                        + ") although its gradients were finite: the steps are too large. Not saved" + lastSavedNote()
                        + ". Try a smaller learning rate or gradient clipping (TrainingConfig.withClipNorm).", p.step());
            }
            Checkpoint.Early early = bestParams == null ? null : new Checkpoint.Early(bestValue, bestEpoch, stopped, bestParams);
            new Checkpoint(spec, params, opt.steps(), opt.firstMoment(), opt.secondMoment(), p, history, cfg.recipe(), fingerprint, early)
                    .write(checkpoints.file(), g);
            lastSaved = checkpoints.file();
            lastSavedStep = p.step();
        }

        private String lastSavedNote() {
            return lastSaved == null ? "" : "; the last checkpoint this run saved is " + lastSaved + " (after step " + lastSavedStep + ")";
        }

        /** True when no gradient is NaN or infinite; the arena is checked in one share per thread. */
        private boolean gradientsFinite() {
            int shares = grads.length >= 1 << 16 ? chunkFinite.length : 1;
            curShares = shares;
            par.forEach(shares, finiteBody);
            for (int t = 0; t < shares; t++) {
                if (!chunkFinite[t]) {
                    return false;
                }
            }
            return true;
        }

        private int curShares;

        private void checkChunk(int t) {
            int n = grads.length;
            int from = (int) ((long) n * t / curShares), to = (int) ((long) n * (t + 1) / curShares);
            chunkFinite[t] = Reductions.allFinite(grads, from, to - from);
        }

        /** Re-runs the failed batch step by step to name where the first NaN or infinity came from. */
        private TrainingFailedException failure(int epoch, long step, int start, int n, double br, double bk) {
            Executor.NonFinite where = ex.findNonFinite(params, grads, n, cfg.seed(), step, cfg.klWeight());
            String what = !Double.isFinite(br) ? "the reconstruction loss is " + br
                    : !Double.isFinite(bk) ? "the KL term is " + bk : "a gradient is not finite";
            String place = where == null ? "" : where.describe();
            if (where != null && where.step() < 0 && where.node().id() == g.input) {
                int r = (int) (where.index() / train.features()) / samples, c = (int) (where.index() % train.features());
                place = "in row " + order[start + r] + ", column " + c + " of " + train.source() + " (" + where.value() + ")";
            }
            String msg = "training stopped at epoch " + epoch + ", step " + step + ": " + what
                    + (where == null ? "" : "; the first NaN or infinity appears " + place)
                    + ". This batch was not applied" + lastSavedNote()
                    + ". Try a smaller learning rate or gradient clipping (TrainingConfig.withClipNorm), or skip such batches"
                    + " (--skip-non-finite, OnNonFinite.SKIP).";
            return new TrainingFailedException(msg, step);
        }
    }

    /**
     * A model measured on a data set: mean reconstruction and KL per sample (one z sample each,
     * fixed noise streams), and for a VAE the mean KL of each latent dimension and the active
     * units (dimensions whose posterior mean has variance above 0.01 over the data).
     */
    public record Evaluation(double reconstruction, double kl, double[] klPerDimension, int activeUnits) {}

    /** Mean reconstruction and KL per sample on a data set, one z sample each (fixed noise streams). */
    public static double[] evaluate(Graph g, float[] params, Dataset data, int batch, long seed, Parallelism par) {
        Evaluation e = evaluation(g, params, data, batch, seed, par);
        return new double[] {e.reconstruction(), e.kl()};
    }

    /** The measures of {@link Evaluation} in one pass over the data (without noise layers' noise). */
    public static Evaluation evaluation(Graph g, float[] params, Dataset data, int batch, long seed, Parallelism par) {
        int b = Math.min(batch, data.rows());
        Plan plan = Planner.forward(g, 0, g.nodes().size() - 1);
        Executor ex = new Executor(plan, par, b);
        double recon = 0, kl = 0;
        int d = data.features();
        int zd = g.kl >= 0 ? g.node(g.mu).width() : 0;
        int cw = g.spec().conditionDim();
        float[] cond = cw > 0 ? conditions(data, cw) : null;
        double[] klDim = new double[zd], batchKl = new double[zd], muSum = new double[zd], muSq = new double[zd];
        long stream = VALIDATION_STREAM;
        for (int start = 0; start < data.rows(); start += b) {
            int n = Math.min(b, data.rows() - start);
            ex.load(g.input, data.x(), start * d, n);
            if (cond != null) {
                ex.load(g.condition, cond, start * cw, n);
            }
            ex.run(params, null, n, seed, stream++, 1f);
            recon += Reductions.sumDouble(ex.value(g.recon), 0, n);
            if (g.kl >= 0) {
                kl += Reductions.sumDouble(ex.value(g.kl), 0, n);
                klPerDimension(batchKl, ex.value(g.mu), ex.value(g.logvar), n, zd);
                float[] mu = ex.value(g.mu);
                for (int j = 0; j < zd; j++) {
                    klDim[j] += batchKl[j] * n;
                    for (int r = 0; r < n; r++) {
                        double m = mu[r * zd + j];
                        muSum[j] += m;
                        muSq[j] += m * m;
                    }
                }
            }
        }
        int active = g.kl >= 0 ? 0 : -1;
        for (int j = 0; j < zd; j++) {
            klDim[j] /= data.rows();
            double mean = muSum[j] / data.rows();
            if (muSq[j] / data.rows() - mean * mean > 0.01) {
                active++;
            }
        }
        return new Evaluation(recon / data.rows(), kl / data.rows(), klDim, active);
    }

    /** out[j] = mean over rows of KL(N(mu_j, exp(logvar_j)) || N(0, 1)), in double (rows x dims, row-major). */
    static void klPerDimension(double[] out, float[] mu, float[] logvar, int rows, int dims) {
        java.util.Arrays.fill(out, 0, dims, 0.0);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < dims; j++) {
                double m = mu[r * dims + j], lv = logvar[r * dims + j];
                out[j] += 0.5 * (m * m + Math.exp(lv) - 1 - lv);
            }
        }
        for (int j = 0; j < dims; j++) {
            out[j] /= rows;
        }
    }

    /**
     * The conditions of a conditional model, rows x {@code width}: the data's context vectors
     * when it has them ({@link Dataset#withContext}), else each row's label one-hot. Errors name
     * the data and what does not fit.
     */
    public static float[] conditions(Dataset data, int width) {
        if (data.context() == null) {
            return oneHot(data, width);
        }
        if (data.contextWidth() != width) {
            throw new IllegalArgumentException("the model is conditioned on " + width + " values per row but " + data.source()
                    + " has context vectors of " + data.contextWidth());
        }
        return data.context();
    }

    /**
     * The conditions of a conditional model trained on labelled data: each row's label as a
     * one-hot vector of {@code width} values. Errors name the data and the label.
     */
    public static float[] oneHot(Dataset data, int width) {
        if (data.labels() == null) {
            throw new IllegalArgumentException("the model is conditional (" + width + " condition values per row) but "
                    + data.source() + " has no labels to condition on");
        }
        float[] c = new float[data.rows() * width];
        for (int r = 0; r < data.rows(); r++) {
            int l = data.labels()[r];
            if (l < 0 || l >= width) {
                throw new IllegalArgumentException(data.source() + ": row " + r + " has label " + l + " but the model's condition"
                        + " has " + width + " classes (0 to " + (width - 1) + ")");
            }
            c[r * width + l] = 1f;
        }
        return c;
    }

    /**
     * Batch normalization needs 2 rows or more in every training batch (one row has no
     * variance): the batch size, and the last batch of the epoch, are checked before training.
     */
    static void checkBatchNormRows(Graph g, int rows, int batch, int samples) {
        String bn = g.nodes().stream().filter(n -> n.op() instanceof org.latent4j.graph.Ops.BatchNormalize).map(n -> n.name()).findFirst().orElse(null);
        if (bn == null || samples > 1) {
            return;
        }
        if (batch < 2) {
            throw new IllegalArgumentException("layer " + bn + " normalizes over the batch: it needs batches of 2 rows or more, not "
                    + batch + (rows < 2 ? " (the data has " + rows + " row)" : ""));
        }
        if (rows % batch == 1) {
            throw new IllegalArgumentException("layer " + bn + " normalizes over the batch, but " + rows + " rows in batches of " + batch
                    + " leave a last batch of 1 row; choose a batch size that leaves 0 or at least 2 (e.g. " + (batch + 1) + ")");
        }
    }

    /** {offset, size} of every weight matrix (not biases, variances, or batch normalization's scale, shift and statistics). */
    static int[][] weightRanges(Graph g) {
        return g.params().values().stream().filter(p -> p.role() == ParamSpec.Role.WEIGHT)
                .map(p -> new int[] {p.offset(), p.size()}).toArray(int[][]::new);
    }

    /** Fisher-Yates from a generator seeded by (seed, epoch) only. */
    static void shuffle(int[] order, long seed, int epoch) {
        shuffle(order, seed, epoch, true);
    }

    /** The epoch's order of rows: identity, then Fisher-Yates when {@code shuffle}. */
    static void shuffle(int[] order, long seed, int epoch, boolean shuffle) {
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        if (!shuffle) {
            return;
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
