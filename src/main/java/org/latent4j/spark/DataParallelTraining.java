package org.latent4j.spark;

import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.model.Autoencoder;
import org.latent4j.train.Checkpoint;
import org.latent4j.train.Optimizer;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;

/**
 * Data-parallel training on Spark, in rounds (the driver's loop behind
 * {@link AutoencoderEstimator#fit}).
 *
 * <p>The rows are read once into one float block per partition (cached). Round r (0-based) is one
 * Spark job: the state S_r (weights w, the optimizer's moments m and v and its step count t) is
 * broadcast; the task of partition p runs K local steps of {@link Trainer#steps} on its own rows
 * from S_r, on the batches where partition p's own run stands after r K steps (its epoch
 * r K / s_p + 1 and position (r K mod s_p) b, s_p its steps per epoch, b the batch), the step
 * counter at r K (noise, schedules) and the seed {@code seed + p * 0x9E3779B97F4A7C15} (partition 0
 * has the seed itself); it returns its state S_r^p. The driver then sets, for every element i of
 * w, m and v,
 *
 * <pre>  S_{r+1}[i] = (float) ((S_r^0[i] + S_r^1[i] + ... + S_r^{P-1}[i]) / P)</pre>
 *
 * summed in double in partition order (the states collected in partition order): the mean of
 * the partitions' states, i.e. S_r plus the mean of their deltas S_r^p - S_r, rounded once.
 *
 * <p>Contract: for a fixed partitioning (the same rows in the same partitions in the same order),
 * the same recipe and seed, the weights after every round are bitwise the same on every run,
 * whatever the executors, their thread counts or the order in which tasks finish. With one
 * partition the rounds are one unbroken run of the library: R rounds of K steps give bitwise
 * {@code Trainer.fit} after R K steps. A checkpoint after each round (the library's checkpoint
 * format; it also loads as a model file) lets a failed job resume from its last round with the
 * same weights as a run that never stopped; the resume checks the recipe, K and the data's
 * partitioning and content (row counts and a hash per partition).
 */
final class DataParallelTraining {
    private DataParallelTraining() {}

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DataParallelTraining.class);
    static final long PARTITION_SEED_STEP = 0x9E3779B97F4A7C15L;

    /** The recipe, as plain values a task can receive (the library's configs are not serializable). */
    record Recipe(String optimizer, float learningRate, int batchSize, float klWeight, float clipNorm, long seed, int threads)
            implements Serializable {
        TrainingConfig config(long partitionSeed) {
            OptimizerSpec o = switch (optimizer.toLowerCase(java.util.Locale.ROOT)) {
                case "adam" -> OptimizerSpec.adam(learningRate);
                case "adamw" -> OptimizerSpec.adamW(learningRate, 0.01f);
                case "sgd" -> OptimizerSpec.sgd(learningRate);
                case "rmsprop" -> OptimizerSpec.rmsprop(learningRate);
                default -> throw new IllegalArgumentException("optimizer: \"" + optimizer + "\" is not one; choose adam, adamw, sgd or rmsprop");
            };
            // The run has no end of its own (rounds end it): epochs only bound the local loop.
            return TrainingConfig.defaults().withOptimizer(o).withBatchSize(batchSize).withKlWeight(klWeight).withClipNorm(clipNorm)
                    .withSeed(partitionSeed).withThreads(threads).withEpochs(Integer.MAX_VALUE / 2);
        }
    }

    /** One partition's rows, read once: rows x features floats, and a hash of them (for the resume's check). */
    record Block(int partition, int rows, int features, float[] x, long hash) implements Serializable {}

    /** The state of a round, broadcast to its tasks. */
    record State(String specJson, float[] params, long optimizerSteps, float[] first, float[] second) implements Serializable {}

    /** What a task sends back: its state after the local steps, its loss sums and its time. */
    record Local(int partition, float[] params, long optimizerSteps, float[] first, float[] second, long steps, double recon, double kl,
                 double penalty, long rows, double seconds) implements Serializable {}

    /** The training's outcome: the model and its rounds. */
    record Result(Autoencoder model, List<RoundStats> rounds) {}

    static Result run(org.apache.spark.sql.Dataset<?> data, String featuresCol, ModelSpec spec, Recipe recipe, int localSteps, int rounds,
                      String checkpointFile, Consumer<RoundStats> onRound) {
        SparkRows.requireVectorModule("driver");
        int featuresIndex = SparkRows.featuresIndex(data.schema(), "featuresCol", featuresCol);
        if (localSteps < 1 || rounds < 1) {
            throw new IllegalArgumentException("localSteps and rounds must be at least 1, got " + localSteps + " and " + rounds);
        }
        TrainingConfig cfg = recipe.config(recipe.seed());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(data.sparkSession().sparkContext());
        JavaRDD<Row> rows = data.toDF().select(featuresCol).javaRDD();
        int width = spec.inputDim();
        if (width == 0) {
            List<Row> first = rows.take(1);
            if (first.isEmpty()) {
                throw new IllegalArgumentException("the training data has no rows");
            }
            width = SparkRows.width(first.get(0), 0, featuresCol);
            spec = spec.withInputDim(width);
        }
        final int d = width;
        // Cached where the tasks ran (an executor lost recomputes its blocks from the data's lineage).
        JavaRDD<Block> blocks = rows.mapPartitionsWithIndex(new ToBlock(d, featuresCol), true).persist(StorageLevel.MEMORY_ONLY());
        try {
            List<long[]> sizes;
            try {
                sizes = blocks.map(b -> new long[] {b.partition(), b.rows(), b.hash()}).collect();
            } catch (Exception e) {      // a task's error arrives as a SparkException (checked to javac, not declared)
                throw SparkRows.unwrap(e);
            }
            int p = sizes.size();
            StringBuilder fingerprint = new StringBuilder("spark " + d + " features, " + p + " partitions:");
            for (long[] s : sizes) {
                if (s[1] == 0) {
                    throw new IllegalArgumentException("partition " + s[0] + " of the " + p + " partitions of the training data has no rows:"
                            + " every partition runs local steps on its own rows; repartition the data (e.g. data.repartition("
                            + Math.max(1, p - 1) + ")) so that none is empty");
                }
                fingerprint.append(' ').append(s[1]).append('/').append(Long.toHexString(s[2]));
            }
            String recipeText = cfg.withSeed(recipe.seed()).recipe() + " localSteps=" + localSteps;
            Graph g = Graph.build(spec).fuse();
            Checkpoint state = start(spec, g, cfg, recipeText, fingerprint.toString(), localSteps, rounds, checkpointFile);
            int done = (int) (state.progress().step() / localSteps);
            List<RoundStats> stats = new ArrayList<>();
            String specJson = spec.toJson();
            for (int r = done; r < rounds; r++) {
                long t0 = System.nanoTime();
                Broadcast<State> bc = jsc.broadcast(new State(specJson, state.params(), state.optimizerSteps(), state.firstMoment(),
                        state.secondMoment()));
                long t1 = System.nanoTime();
                List<Local> results;
                try {
                    results = blocks.mapPartitionsWithIndex(new LocalRound(bc, recipe, localSteps, r), true).collect();
                } catch (Exception e) {
                    throw SparkRows.unwrap(e);
                } finally {
                    bc.destroy();
                }
                long t2 = System.nanoTime();
                state = average(state, results, (long) (r + 1) * localSteps, recipeText, fingerprint.toString());
                long t3 = System.nanoTime();
                if (!checkpointFile.isEmpty()) {
                    try {
                        state.write(Path.of(checkpointFile));
                    } catch (IOException e) {
                        throw new UncheckedIOException(checkpointFile + ": " + e.getMessage(), e);
                    }
                }
                long t4 = System.nanoTime();
                double recon = 0, kl = 0, penalty = 0, slowest = 0, mean = 0;
                long counted = 0, bytes = 0, steps = 0;
                for (Local l : results) {
                    recon += l.recon();
                    kl += l.kl();
                    penalty += l.penalty();
                    counted += l.rows();
                    slowest = Math.max(slowest, l.seconds());
                    mean += l.seconds() / results.size();
                    bytes += 4L * (l.params().length + l.first().length + l.second().length);
                    steps = Math.max(steps, l.steps());
                }
                RoundStats rs = new RoundStats(r + 1, steps, counted, (recon + recipe.klWeight() * kl + penalty) / counted, recon / counted,
                        kl / counted, (t4 - t0) / 1e9, (t1 - t0) / 1e9, (t2 - t1) / 1e9, slowest, mean, (t3 - t2) / 1e9, (t4 - t3) / 1e9, bytes);
                stats.add(rs);
                LOG.info("latent4j {}", rs.describe(rounds));
                onRound.accept(rs);
            }
            return new Result(Autoencoder.of(spec, state.params()), stats);
        } finally {
            blocks.unpersist(false);
        }
    }

    /** The state to start from: the last round's checkpoint when there is one (checked), else the seed's initial weights. */
    private static Checkpoint start(ModelSpec spec, Graph g, TrainingConfig cfg, String recipeText, String fingerprint, int k, int rounds,
                                    String checkpointFile) {
        if (!checkpointFile.isEmpty() && Files.exists(Path.of(checkpointFile))) {
            Checkpoint c;
            try {
                c = Checkpoint.read(Path.of(checkpointFile));
            } catch (IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            String where = checkpointFile + ": ";
            if (!c.spec().toJson().equals(spec.toJson())) {
                throw new IllegalArgumentException(where + "the checkpoint holds another model spec; resume with the same spec");
            }
            if (!c.recipe().equals(recipeText)) {
                throw new IllegalArgumentException(where + "the checkpoint was made with another recipe (" + c.recipe() + "; now "
                        + recipeText + "); resume with the same settings");
            }
            if (!c.dataFingerprint().equals(fingerprint)) {
                throw new IllegalArgumentException(where + "the checkpoint was made on other data or another partitioning (" + c.dataFingerprint()
                        + "; now " + fingerprint + "); resume on the same rows in the same partitions");
            }
            long done = c.progress().step() / k;
            if (c.progress().step() % k != 0 || done > rounds) {
                throw new IllegalArgumentException(where + "the checkpoint is " + c.progress().step() + " steps (" + done + " rounds of "
                        + k + ") into the run; resume with at least " + done + " rounds");
            }
            LOG.info("latent4j: resuming from {} after round {}", checkpointFile, done);
            return c;
        }
        int[] sizes = Optimizer.stateSizes(cfg.optimizer(), g.trainableCount());
        return new Checkpoint(spec, Trainer.initialParams(g, cfg.seed(), cfg.weightInit()), 0, new float[sizes[0]], new float[sizes[1]],
                new Checkpoint.Progress(1, 0, 0, 0, 0, 0, 0, 0, 0), List.of(), recipeText, fingerprint, null);
    }

    /**
     * The mean of the partitions' states, element by element, summed in double in partition
     * order and rounded once to float (see the class comment).
     */
    static Checkpoint average(Checkpoint before, List<Local> results, long step, String recipeText, String fingerprint) {
        long t = results.get(0).optimizerSteps();
        for (Local l : results) {
            if (l.optimizerSteps() != t) {
                throw new IllegalStateException("partition " + l.partition() + " took " + l.optimizerSteps() + " optimizer steps, partition "
                        + results.get(0).partition() + " " + t + ": the local runs went apart");
            }
        }
        float[] w = mean(results, 0), m = mean(results, 1), v = mean(results, 2);
        return new Checkpoint(before.spec(), w, t, m, v, new Checkpoint.Progress(1, 0, step, 0, 0, 0, 0, 0, 0), List.of(), recipeText,
                fingerprint, null);
    }

    private static float[] mean(List<Local> results, int which) {
        int n = part(results.get(0), which).length;
        float[] out = new float[n];
        double[] sum = new double[n];
        for (Local l : results) {            // partition order: collect() keeps it
            float[] a = part(l, which);
            for (int i = 0; i < n; i++) {
                sum[i] += a[i];
            }
        }
        int p = results.size();
        for (int i = 0; i < n; i++) {
            out[i] = (float) (sum[i] / p);
        }
        return out;
    }

    private static float[] part(Local l, int which) {
        return which == 0 ? l.params() : which == 1 ? l.first() : l.second();
    }

    /** A partition's rows into one block (the first task on each executor checks the Vector API). */
    static final class ToBlock implements Function2<Integer, Iterator<Row>, Iterator<Block>> {
        @Serial
        private static final long serialVersionUID = 1L;
        private final int d;
        private final String col;

        ToBlock(int d, String col) {
            this.d = d;
            this.col = col;
        }

        @Override
        public Iterator<Block> call(Integer partition, Iterator<Row> rows) {
            SparkRows.requireVectorModule("executor");
            float[] x = new float[d * 64];
            int n = 0;
            while (rows.hasNext()) {
                if ((long) (n + 1) * d > x.length) {
                    if ((long) x.length * 2 > Integer.MAX_VALUE - 8) {
                        throw new IllegalArgumentException("partition " + partition + " holds more than " + n + " rows of " + d
                                + " features (2^31 floats): use more partitions");
                    }
                    x = java.util.Arrays.copyOf(x, x.length * 2);
                }
                SparkRows.readFeatures(rows.next(), 0, x, n * d, d, col, n, partition);
                n++;
            }
            x = java.util.Arrays.copyOf(x, n * d);
            long h = 0xcbf29ce484222325L;
            for (float f : x) {
                h = (h ^ Float.floatToRawIntBits(f)) * 0x100000001b3L;
            }
            return List.of(new Block(partition, n, d, x, h)).iterator();
        }
    }

    /** A round's task: K local steps of {@link Trainer#steps} on the partition's block from the broadcast state. */
    static final class LocalRound implements Function2<Integer, Iterator<Block>, Iterator<Local>> {
        @Serial
        private static final long serialVersionUID = 1L;
        private final Broadcast<State> state;
        private final Recipe recipe;
        private final int k;
        private final int round;

        LocalRound(Broadcast<State> state, Recipe recipe, int k, int round) {
            this.state = state;
            this.recipe = recipe;
            this.k = k;
            this.round = round;
        }

        @Override
        public Iterator<Local> call(Integer partition, Iterator<Block> blocks) {
            SparkRows.requireVectorModule("executor");
            long t0 = System.nanoTime();
            if (!blocks.hasNext()) {
                throw new IllegalStateException("partition " + partition + " has no block of rows");
            }
            Block b = blocks.next();
            if (b.rows() == 0) {
                throw new IllegalArgumentException("partition " + partition + " of the training data has no rows: repartition the data so"
                        + " that none is empty");
            }
            State s = state.value();
            ModelSpec spec = ModelSpec.fromJson(s.specJson());
            TrainingConfig cfg = recipe.config(recipe.seed() + partition * PARTITION_SEED_STEP);
            Dataset data = new Dataset(b.x(), b.rows(), b.features(), null, "partition " + partition + " of the training data");
            Checkpoint from = new Checkpoint(spec, s.params(), s.optimizerSteps(), s.first(), s.second(), progress(b.rows(), round), List.of(),
                    "", "", null);
            Trainer.Steps r = Trainer.steps(from, data, cfg, k, null);
            Checkpoint after = r.state();
            return List.of(new Local(partition, after.params(), after.optimizerSteps(), after.firstMoment(), after.secondMoment(), r.steps(),
                    r.reconstructionSum(), r.klSum(), r.penaltySum(), r.rows(), (System.nanoTime() - t0) / 1e9)).iterator();
        }

        /**
         * Where this partition's own run stands after {@code round} rounds of K steps: each step
         * takes one batch of min(batch, rows) rows, the last of an epoch what is left.
         */
        private Checkpoint.Progress progress(int rows, int round) {
            int b = Math.min(recipe.batchSize(), rows);
            long perEpoch = (rows + b - 1) / b;
            long j = (long) round * k;
            int position = (int) ((j % perEpoch) * b);
            return new Checkpoint.Progress((int) (j / perEpoch + 1), position, j, 0, 0, position, 0, 0, 0);
        }
    }
}
