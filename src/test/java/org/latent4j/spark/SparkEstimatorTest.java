package org.latent4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.Autoencoder;
import org.latent4j.train.Checkpoint;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

/**
 * The Spark stages in local[2], one session for the class, on a few rows of Fashion-MNIST:
 * scoring equals the library's row for row, bitwise; one partition of K-step rounds equals the
 * library's training; two partitions give the documented mean; persistence and pipelines round
 * trip; resume from a round's checkpoint; and the clear errors.
 */
class SparkEstimatorTest {
    static SparkSession spark;
    static JavaSparkContext jsc;
    static final org.latent4j.data.Dataset DATA = FashionMnist.bundledTrain().head(160);
    static final ModelSpec VAE = Model.encoder(784).dense(16).relu().gaussianLatent(3).decoder().dense(16).relu().dense(784).bernoulli();
    static final StructType SCHEMA = new StructType().add("id", DataTypes.IntegerType, false).add("features", SQLDataTypes.VectorType(), false);

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("latent4j-test").config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2").getOrCreate();
        spark.sparkContext().setLogLevel("ERROR");
        jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Rows [from, to) of DATA as (id, vector), cut into {@code partitions} contiguous partitions in row order. */
    static Dataset<Row> frame(int from, int to, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int r = from; r < to; r++) {
            rows.add(RowFactory.create(r, Vectors.dense(doubles(DATA.row(r)))));
        }
        return spark.createDataFrame(jsc.parallelize(rows, partitions), SCHEMA);
    }

    static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    static float[][] rows(int from, int to) {
        float[][] x = new float[to - from][];
        for (int r = from; r < to; r++) {
            x[r - from] = DATA.row(r);
        }
        return x;
    }

    static org.latent4j.data.Dataset slice(int from, int to) {
        return new org.latent4j.data.Dataset(Arrays.copyOfRange(DATA.x(), from * 784, to * 784), to - from, 784, null, "rows " + from + "-" + to);
    }

    static AutoencoderEstimator estimator(int batch, int k, int rounds, long seed) {
        return new AutoencoderEstimator().setSpec(VAE).setBatchSize(batch).setLocalSteps(k).setRounds(rounds).setSeed(seed);
    }

    static TrainingConfig libraryConfig(int batch, int epochs, long seed) {
        return TrainingConfig.defaults().withOptimizer(OptimizerSpec.adam(1e-3f)).withBatchSize(batch).withEpochs(epochs).withSeed(seed);
    }

    static Autoencoder trained() {
        return Trainer.fit(VAE, DATA, null, libraryConfig(32, 1, 3), TrainingListener.NONE).model();
    }

    @Test
    void scoringThroughSparkEqualsTheLibraryRowForRowBitwise() {
        Autoencoder ae = trained();
        float[][] x = rows(0, 150);
        AnomalyDetector det = AnomalyDetector.of(ae, AnomalyDetector.Score.NEG_ELBO, 3, 11);
        double[] libScores = det.score(x);
        double threshold = libScores[17];
        boolean[] libVerdict = det.withThreshold(threshold).isAnomalous(x);
        float[][] libLatent = ae.encode(x), libRec = ae.reconstruct(x);

        int compiledBefore = ExecutorModels.COMPILED.get();
        AutoencoderModel m = new AutoencoderModel(ae).setReconstructionCol("rec").setScoreCol("score").setScoreKind("neg_elbo")
                .setScoreSamples(3).setScoreSeed(11).setThreshold(threshold).setBatchRows(16);   // batches cut within partitions
        List<Row> out = m.transform(frame(0, 150, 3)).orderBy("id").collectAsList();
        assertEquals(1, ExecutorModels.COMPILED.get() - compiledBefore, "the model is compiled once for the 3 tasks of this JVM");
        assertEquals(150, out.size());
        int flagged = 0;
        for (int r = 0; r < 150; r++) {
            Row row = out.get(r);
            assertEquals(r, row.getInt(0));
            assertArrayEquals(doubles(libLatent[r]), ((Vector) row.getAs("latent")).toArray(), 0.0, "latent of row " + r);
            assertArrayEquals(doubles(libRec[r]), ((Vector) row.getAs("rec")).toArray(), 0.0, "reconstruction of row " + r);
            assertEquals(libScores[r], row.<Double>getAs("score"), 0.0, "score of row " + r);
            assertEquals(libVerdict[r], row.<Boolean>getAs("anomalous"), "verdict of row " + r);
            flagged += libVerdict[r] ? 1 : 0;
        }
        assertTrue(flagged > 0 && flagged < 150, flagged + " flagged");

        // An array<float> column gives the same numbers; a second transform compiles nothing new.
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 20; r++) {
            Float[] f = new Float[784];
            for (int j = 0; j < 784; j++) {
                f[j] = x[r][j];
            }
            rows.add(RowFactory.create(r, f));
        }
        StructType arrays = new StructType().add("id", DataTypes.IntegerType).add("pixels", DataTypes.createArrayType(DataTypes.FloatType));
        List<Row> out2 = m.setFeaturesCol("pixels").setScoreCol("").setThreshold(Double.NaN).setReconstructionCol("")
                .transform(spark.createDataFrame(jsc.parallelize(rows, 2), arrays)).orderBy("id").collectAsList();
        assertEquals(3, out2.get(0).size(), "id, pixels, latent: the columns set to empty are not produced");
        for (int r = 0; r < 20; r++) {
            assertArrayEquals(doubles(libLatent[r]), ((Vector) out2.get(r).getAs("latent")).toArray(), 0.0);
        }
        assertEquals(1, ExecutorModels.COMPILED.get() - compiledBefore);
    }

    @Test
    void onePartitionOfKStepRoundsEqualsTheLibrarysTrainingBitwise() {
        // 40 rows in batches of 16: 3 steps per epoch; rounds of K = 2 steps end mid-epoch; 3 rounds = 2 epochs.
        AutoencoderModel m = estimator(16, 2, 3, 7).fit(frame(0, 40, 1));
        float[] lib = Trainer.fit(VAE, slice(0, 40), null, libraryConfig(16, 2, 7), TrainingListener.NONE).model().parameters();
        assertArrayEquals(lib, m.autoencoder().parameters());
        assertEquals(3, m.trainingRounds().size());
        RoundStats r = m.trainingRounds().get(2);
        assertEquals(2, r.steps());
        assertEquals(24, r.rows(), "round 3 = steps 5 and 6, epoch 2's second batch (16 rows) and its last (8)");
        assertTrue(Double.isFinite(r.loss()) && r.loss() > 0 && r.jobSeconds() > 0 && r.slowestTaskSeconds() > 0, r.describe(3));
    }

    @Test
    void twoPartitionsGiveTheMeanOfTheirLocalRunsInPartitionOrder() {
        // 2 partitions of 32 rows, batches of 16, K = 2: one round is one epoch of each partition from the seed's weights.
        long seed = 5;
        AutoencoderModel m = estimator(16, 2, 1, seed).fit(frame(0, 64, 2));
        Graph g = Graph.build(VAE.withInputDim(784)).fuse();
        float[] init = Trainer.initialParams(g, seed);
        float[][] local = new float[2][];
        for (int p = 0; p < 2; p++) {
            TrainingConfig c = libraryConfig(16, 1, seed + p * DataParallelTraining.PARTITION_SEED_STEP);
            local[p] = Trainer.fit(VAE, slice(32 * p, 32 * p + 32), null, c, TrainingListener.NONE, null, null, init).model().parameters();
        }
        float[] expected = new float[init.length];
        for (int i = 0; i < init.length; i++) {
            expected[i] = (float) (((double) local[0][i] + local[1][i]) / 2);
        }
        assertFalse(Arrays.equals(expected, local[0]) || Arrays.equals(expected, local[1]));
        assertArrayEquals(expected, m.autoencoder().parameters());
        // The contract: a fixed partitioning gives the same bits on every run (here over two rounds).
        float[] a = estimator(16, 2, 2, seed).fit(frame(0, 64, 2)).autoencoder().parameters();
        float[] b = estimator(16, 2, 2, seed).fit(frame(0, 64, 2)).autoencoder().parameters();
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, m.autoencoder().parameters()));
    }

    @Test
    void aFailedRunResumesFromItsLastRoundsCheckpoint(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("run.safetensors");
        float[] unbroken = estimator(16, 3, 4, 9).fit(frame(0, 64, 2)).autoencoder().parameters();
        estimator(16, 3, 2, 9).setCheckpointFile(ck.toString()).fit(frame(0, 64, 2));   // "fails" after round 2
        Checkpoint c = Checkpoint.read(ck);
        assertEquals(6, c.progress().step());
        assertTrue(Autoencoder.load(ck).parameters().length == unbroken.length, "the checkpoint also loads as a model");
        AutoencoderModel resumed = estimator(16, 3, 4, 9).setCheckpointFile(ck.toString()).fit(frame(0, 64, 2));
        assertEquals(2, resumed.trainingRounds().size(), "rounds 3 and 4 only");
        assertEquals(3, resumed.trainingRounds().get(0).round());
        assertArrayEquals(unbroken, resumed.autoencoder().parameters());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> estimator(16, 3, 4, 9).setCheckpointFile(ck.toString()).fit(frame(0, 64, 1)));
        assertTrue(e.getMessage().contains("other data or another partitioning"), e.getMessage());
    }

    @Test
    void modelsAndEstimatorsSaveAndLoadAlsoInAPipeline(@TempDir Path dir) throws Exception {
        Autoencoder ae = trained();
        AutoencoderModel m = new AutoencoderModel(ae).setScoreCol("s").setLatentCol("z");
        m.write().save(dir.resolve("model").toString());
        assertArrayEquals(m.modelFile(), Files.readAllBytes(dir.resolve("model").resolve(AutoencoderModel.MODEL_FILE)),
                "the stage holds the model file itself");
        AutoencoderModel back = AutoencoderModel.load(dir.resolve("model").toString());
        assertEquals(m.uid(), back.uid());
        assertEquals("s", back.getScoreCol());
        assertEquals("z", back.getLatentCol());
        assertArrayEquals(ae.parameters(), Autoencoder.load(dir.resolve("model").resolve(AutoencoderModel.MODEL_FILE)).parameters());
        Dataset<Row> df = frame(0, 30, 2);
        assertEquals(m.transform(df).orderBy("id").collectAsList(), back.transform(df).orderBy("id").collectAsList());

        AutoencoderEstimator est = estimator(16, 2, 1, 3).setLatentCol("code");
        est.write().save(dir.resolve("estimator").toString());
        AutoencoderEstimator est2 = AutoencoderEstimator.load(dir.resolve("estimator").toString());
        assertEquals(est.getSpec(), est2.getSpec());
        assertEquals(2, est2.getLocalSteps());
        assertEquals("code", est2.getLatentCol());

        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {est});
        PipelineModel fitted = pipeline.fit(frame(0, 32, 1));
        fitted.write().save(dir.resolve("pipeline").toString());
        PipelineModel loaded = PipelineModel.load(dir.resolve("pipeline").toString());
        Dataset<Row> df2 = frame(40, 50, 1);
        List<Row> a = fitted.transform(df2).orderBy("id").collectAsList(), b = loaded.transform(df2).orderBy("id").collectAsList();
        assertEquals(a, b);
        assertEquals(3, a.get(0).size(), "id, features, code");
        assertTrue(loaded.stages()[0] instanceof AutoencoderModel);
    }

    @Test
    void aMissingVectorModuleInAnExecutorABadColumnAndAnEmptyPartitionGiveClearErrors() {
        spark.sparkContext().setLogLevel("OFF");   // the tasks' failures below are expected
        BooleanSupplier real = SparkRows.vectorModulePresent;
        SparkRows.vectorModulePresent = () -> TaskContext.get() == null;   // the driver has it, the tasks do not
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> estimator(16, 1, 1, 1).fit(frame(0, 32, 2)));
            assertTrue(e.getMessage().startsWith("latent4j needs the Java module jdk.incubator.vector, which the JVM of this executor"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("--conf spark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector"), e.getMessage());
            Exception t = assertThrows(Exception.class, () -> new AutoencoderModel(trained()).transform(frame(0, 8, 2)).collectAsList());
            assertTrue(t.getMessage().contains("spark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector"), t.getMessage());
        } finally {
            SparkRows.vectorModulePresent = real;
        }

        Dataset<Row> text = spark.createDataFrame(List.of(RowFactory.create("a")), new StructType().add("features", DataTypes.StringType));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> estimator(16, 1, 1, 1).fit(text));
        assertEquals("featuresCol: column \"features\" is of type string; latent4j takes a vector (org.apache.spark.ml.linalg.Vector)"
                + " or an array<float> or array<double> column", bad.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> new AutoencoderModel(trained()).setFeaturesCol("pixels").transform(frame(0, 4, 1)));
        assertTrue(none.getMessage().startsWith("featuresCol: the data has no column \"pixels\""), none.getMessage());

        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> estimator(16, 1, 1, 1).fit(frame(0, 2, 3)));
        assertTrue(empty.getMessage().startsWith("partition 0 of the 3 partitions of the training data has no rows"), empty.getMessage());

        List<Row> narrow = List.of(RowFactory.create(0, Vectors.dense(1, 2, 3)));
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> estimator(16, 1, 1, 1).fit(spark.createDataFrame(jsc.parallelize(narrow, 1), SCHEMA)));
        assertEquals("column \"features\": row 0 of partition 0 has 3 values but the model takes 784", width.getMessage());
        spark.sparkContext().setLogLevel("ERROR");
    }
}
