package org.latent4j.spark;

import java.io.Serial;
import java.util.function.Consumer;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.StructType;
import org.latent4j.dsl.ModelSpec;

/**
 * Trains a latent4j autoencoder or VAE on a Spark Dataset, data-parallel, as a Spark ML
 * Estimator: {@code fit} gives an {@link AutoencoderModel} (with this estimator's column and
 * score Params). The model is the {@code spec} Param (a model spec's JSON,
 * {@code ModelSpec.toJson()}, e.g. of {@code Model.encoder(784)...bernoulli()}); the recipe is
 * {@code optimizer}, {@code learningRate}, {@code batchSize}, {@code klWeight} (beta),
 * {@code clipNorm} and {@code seed}; the distribution is {@code localSteps} (K) and
 * {@code rounds}: each round every partition runs K local steps on its rows from the same state
 * and the driver averages the partitions' states (weights and optimizer moments) in partition
 * order, one Spark job per round; see {@link DataParallelTraining} for the exact rule and its
 * bitwise contract. With {@code checkpointFile} set (a path on the driver) every round writes a
 * checkpoint there and a later {@code fit} with the same settings and data resumes after its last
 * round. Each round's loss and cost is logged (logger org.latent4j.spark.DataParallelTraining,
 * level INFO) and kept in {@link AutoencoderModel#trainingRounds()}.
 *
 * <p>Every partition must hold rows; all of a partition's rows are held in its executor's memory
 * as floats (rows x features x 4 bytes). Saved and loaded with Spark ML persistence
 * ({@code write().save(path)}, {@link #load}); usable as a stage of a {@code Pipeline}.
 */
public final class AutoencoderEstimator extends Estimator<AutoencoderModel>
        implements AutoencoderParams<AutoencoderEstimator>, DefaultParamsWritable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Columns columns;
    private final Param<String> spec, optimizer, checkpointFile;
    private final DoubleParam learningRate, klWeight, clipNorm;
    private final IntParam batchSize, localSteps, rounds, threadsPerTask;
    private final LongParam seed;
    private transient Consumer<RoundStats> onRound = r -> { };

    public AutoencoderEstimator() {
        this(Identifiable$.MODULE$.randomUID("latent4jAutoencoderEstimator"));
    }

    public AutoencoderEstimator(String uid) {
        this.uid = uid;
        this.columns = new Columns(this);
        spec = new Param<>(uid, "spec", "the model: a latent4j model spec as JSON (ModelSpec.toJson(), e.g. of"
                + " Model.encoder(784).dense(512).relu().gaussianLatent(32).decoder().dense(512).relu().dense(784).bernoulli());"
                + " an input width of 0 is taken from the data");
        optimizer = new Param<>(uid, "optimizer", "the optimizer: adam, adamw (weight decay 0.01), sgd or rmsprop");
        checkpointFile = new Param<>(uid, "checkpointFile", "a file on the driver for a checkpoint after every round (latent4j's"
                + " checkpoint format); when it exists, fit resumes after its last round; empty: none");
        learningRate = new DoubleParam(uid, "learningRate", "the learning rate (constant) of the local steps");
        klWeight = new DoubleParam(uid, "klWeight", "the weight beta of a VAE's KL term (1: the ELBO)");
        clipNorm = new DoubleParam(uid, "clipNorm", "clip each local step's gradient to this L2 norm; 0: no clipping");
        batchSize = new IntParam(uid, "batchSize", "rows per local step (each partition's own batches)");
        localSteps = new IntParam(uid, "localSteps", "K: training steps each partition runs on its rows per round, from the round's"
                + " shared state, before the driver averages the states");
        rounds = new IntParam(uid, "rounds", "rounds of training (one Spark job each): R rounds are R K steps");
        threadsPerTask = new IntParam(uid, "threadsPerTask", "threads each task trains with (match spark.task.cpus)");
        seed = new LongParam(uid, "seed", "the seed: initial weights, each partition's shuffles and noise (partition p uses"
                + " seed + p * 0x9E3779B97F4A7C15)");
        setDefault(spec, "");
        setDefault(optimizer, "adam");
        setDefault(checkpointFile, "");
        setDefault(learningRate, 1e-3);
        setDefault(klWeight, 1.0);
        setDefault(clipNorm, 0.0);
        setDefault(batchSize, 128);
        setDefault(localSteps, 10);
        setDefault(rounds, 10);
        setDefault(threadsPerTask, 1);
        setDefault(seed, 42L);
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public Columns columnParams() {
        return columns;
    }

    public Param<String> spec() { return spec; }
    public Param<String> optimizer() { return optimizer; }
    public Param<String> checkpointFile() { return checkpointFile; }
    public DoubleParam learningRate() { return learningRate; }
    public DoubleParam klWeight() { return klWeight; }
    public DoubleParam clipNorm() { return clipNorm; }
    public IntParam batchSize() { return batchSize; }
    public IntParam localSteps() { return localSteps; }
    public IntParam rounds() { return rounds; }
    public IntParam threadsPerTask() { return threadsPerTask; }
    public LongParam seed() { return seed; }

    public String getSpec() { return getOrDefault(spec); }
    public String getOptimizer() { return getOrDefault(optimizer); }
    public String getCheckpointFile() { return getOrDefault(checkpointFile); }
    public double getLearningRate() { return (Double) getOrDefault(learningRate); }
    public double getKlWeight() { return (Double) getOrDefault(klWeight); }
    public double getClipNorm() { return (Double) getOrDefault(clipNorm); }
    public int getBatchSize() { return (Integer) getOrDefault(batchSize); }
    public int getLocalSteps() { return (Integer) getOrDefault(localSteps); }
    public int getRounds() { return (Integer) getOrDefault(rounds); }
    public int getThreadsPerTask() { return (Integer) getOrDefault(threadsPerTask); }
    public long getSeed() { return (Long) getOrDefault(seed); }

    public AutoencoderEstimator setSpec(String json) { set(spec, json); return this; }
    /** The spec as its JSON. */
    public AutoencoderEstimator setSpec(ModelSpec s) { return setSpec(s.toJson()); }
    public AutoencoderEstimator setOptimizer(String v) { set(optimizer, v); return this; }
    public AutoencoderEstimator setCheckpointFile(String v) { set(checkpointFile, v); return this; }
    public AutoencoderEstimator setLearningRate(double v) { set(learningRate, v); return this; }
    public AutoencoderEstimator setKlWeight(double v) { set(klWeight, v); return this; }
    public AutoencoderEstimator setClipNorm(double v) { set(clipNorm, v); return this; }
    public AutoencoderEstimator setBatchSize(int v) { set(batchSize, v); return this; }
    public AutoencoderEstimator setLocalSteps(int v) { set(localSteps, v); return this; }
    public AutoencoderEstimator setRounds(int v) { set(rounds, v); return this; }
    public AutoencoderEstimator setThreadsPerTask(int v) { set(threadsPerTask, v); return this; }
    public AutoencoderEstimator setSeed(long v) { set(seed, v); return this; }

    /** Called on the driver after each round (besides the log line); e.g. for a progress display. Not saved. */
    public AutoencoderEstimator setRoundListener(Consumer<RoundStats> listener) {
        this.onRound = listener == null ? r -> { } : listener;
        return this;
    }

    /** The model spec of the {@code spec} Param; a missing or bad one is refused, saying so. */
    ModelSpec modelSpec() {
        String json = getSpec();
        if (json.isBlank()) {
            throw new IllegalArgumentException("spec: set the model spec (its JSON, ModelSpec.toJson(), or setSpec(ModelSpec))");
        }
        try {
            return ModelSpec.fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("spec: " + e.getMessage(), e);
        }
    }

    @Override
    public StructType transformSchema(StructType schema) {
        modelSpec();
        return outputSchema(schema);
    }

    @Override
    public AutoencoderModel fit(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        ModelSpec s = modelSpec();
        if (s.conditionDim() > 0) {
            throw new IllegalArgumentException("spec: a conditional model needs conditions, which the estimator does not take");
        }
        if (getBatchSize() < 1 || getThreadsPerTask() < 1 || !(getLearningRate() > 0) || !(getKlWeight() >= 0) || !(getClipNorm() >= 0)) {
            throw new IllegalArgumentException("batchSize and threadsPerTask must be at least 1, learningRate positive, klWeight and"
                    + " clipNorm not negative; got " + getBatchSize() + ", " + getThreadsPerTask() + ", " + getLearningRate() + ", "
                    + getKlWeight() + ", " + getClipNorm());
        }
        DataParallelTraining.Recipe recipe = new DataParallelTraining.Recipe(getOptimizer(), (float) getLearningRate(), getBatchSize(),
                (float) getKlWeight(), (float) getClipNorm(), getSeed(), getThreadsPerTask());
        recipe.config(getSeed());   // an unknown optimizer is refused before any job
        DataParallelTraining.Result r = DataParallelTraining.run(dataset, getFeaturesCol(), s, recipe, getLocalSteps(), getRounds(),
                getCheckpointFile(), onRound != null ? onRound : r0 -> { });   // null after Java deserialization
        AutoencoderModel m = new AutoencoderModel(uid, ExecutorModels.bytes(r.model())).withRounds(r.rounds());
        return copyValues(m, ParamMap.empty()).setParent(this);
    }

    @Override
    public AutoencoderEstimator copy(ParamMap extra) {
        AutoencoderEstimator c = defaultCopy(extra);
        c.onRound = onRound;
        return c;
    }

    /** The reader of a saved estimator (Spark ML calls it by this name, e.g. from {@code Pipeline.load}). */
    public static MLReader<AutoencoderEstimator> read() {
        return new DefaultParamsReader<>();
    }

    public static AutoencoderEstimator load(String path) {
        return read().load(path);
    }
}
