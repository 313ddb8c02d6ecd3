// latent4j on Spark local[2] beside the library alone, on the full Fashion-MNIST (W1 VAE):
// scoring throughput, and data-parallel training for K = 1, 10, 100 local steps per round
// (samples/s, test -ELBO after about one epoch of samples, the round overhead).
// Run: benchmarks/spark/run.sh [samples-per-run]   (it builds the class path with Spark on it)
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.kernel.Parallelism;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.Autoencoder;
import org.latent4j.spark.AutoencoderEstimator;
import org.latent4j.spark.AutoencoderModel;
import org.latent4j.spark.RoundStats;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

static final ModelSpec W1 = Model.encoder(784).dense(512).relu().dense(256).relu().gaussianLatent(32)
        .decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();
static final StructType SCHEMA = new StructType().add("features", SQLDataTypes.VectorType(), false);

/** The data sets a frame's tasks read (local mode: the tasks share this JVM; a closure capturing the rows would ship them in every task). */
static final java.util.Map<String, org.latent4j.data.Dataset> SOURCES = new java.util.concurrent.ConcurrentHashMap<>();

/** The rows of a data set as a cached DataFrame of {@code partitions} contiguous slices (made in the tasks, not shipped from the driver). */
static Dataset<Row> frame(SparkSession spark, org.latent4j.data.Dataset d, int partitions) {
    String key = d.source() + "/" + d.rows();
    SOURCES.put(key, d);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int n = d.rows();
    List<Integer> parts = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
        parts.add(p);
    }
    var rows = jsc.parallelize(parts, partitions).flatMap(p -> {
        float[] x = SOURCES.get(key).x();
        List<Row> out = new ArrayList<>();
        for (int r = (int) ((long) n * p / partitions); r < (long) n * (p + 1) / partitions; r++) {
            double[] v = new double[784];
            for (int j = 0; j < 784; j++) {
                v[j] = x[r * 784 + j];
            }
            out.add(RowFactory.create(Vectors.dense(v)));
        }
        return out.iterator();
    });
    Dataset<Row> df = spark.createDataFrame(rows, SCHEMA).cache();
    df.count();
    return df;
}

static double testNegElbo(Autoencoder m, org.latent4j.data.Dataset test) {
    double[] e = Trainer.evaluate(m.graph(), m.parameters(), test, 500, 42, Parallelism.serial());
    return e[0] + e[1];
}

/** The rows as they came, with a latent vector and a score of zeros: Spark's own part of scoring. */
static final class Copy implements org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row> {
    @Override
    public java.util.Iterator<Row> call(java.util.Iterator<Row> it) {
        return new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Row next() {
                Row r = it.next();
                ((org.apache.spark.ml.linalg.Vector) r.get(0)).size();
                return RowFactory.create(r.get(0), Vectors.dense(new double[32]), 0.0);
            }
        };
    }
}

static double median(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length == 0 ? Double.NaN : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
}

void main(String[] args) throws Exception {
    int budget = args.length > 0 ? Integer.parseInt(args[0]) : 60000;
    org.latent4j.data.Dataset train = FashionMnist.fromDirectory(FashionMnist.DEBIAN_DIR, false);
    org.latent4j.data.Dataset test = FashionMnist.fromDirectory(FashionMnist.DEBIAN_DIR, true);
    SparkSession spark = SparkSession.builder().master("local[2]").appName("latent4j-bench").config("spark.ui.enabled", "false").getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    IO.println("latent4j on Spark %s local[2], %d cores, %s; W1 VAE (%d parameters, %.1f MB), full Fashion-MNIST (%d train, %d test rows)"
            .formatted(spark.version(), Runtime.getRuntime().availableProcessors(), java.time.LocalDate.now(),
                    Graph.build(W1).fuse().paramCount(), Graph.build(W1).fuse().paramCount() * 4 / 1e6, train.rows(), test.rows()));

    // ---- single-JVM training: the budget of samples as one run of the library's loop (Trainer.steps: the
    // steps of Trainer.fit without its epoch-end measurements), 1 and 2 threads, after a warm-up
    TrainingConfig base = TrainingConfig.defaults().withBatchSize(128).withSeed(42).withEpochs(1000);
    Graph g = Graph.build(W1).fuse();
    int[] sizes = org.latent4j.train.Optimizer.stateSizes(base.optimizer(), g.trainableCount());
    org.latent4j.train.Checkpoint init = new org.latent4j.train.Checkpoint(W1, Trainer.initialParams(g, 42), 0, new float[sizes[0]],
            new float[sizes[1]], new org.latent4j.train.Checkpoint.Progress(1, 0, 0, 0, 0, 0, 0, 0, 0), List.of(), "", "", null);
    org.latent4j.data.Dataset single = budget < train.rows() ? train.head(budget) : train;
    Trainer.steps(init, single, base.withThreads(2), 60, null);   // warm-up
    long steps = (long) Math.ceil((double) budget / 128);
    double libSamples = 0;
    Autoencoder lib = null;
    for (int threads = 1; threads <= 2; threads++) {
        long t0 = System.nanoTime();
        Trainer.Steps run = Trainer.steps(init, single, base.withThreads(threads), steps, null);
        double libSec = (System.nanoTime() - t0) / 1e9;
        libSamples = run.rows();
        lib = Autoencoder.of(W1, run.state().params());
        IO.println("single JVM, %d thread(s): %d steps, %.0f samples in %.1f s = %.0f samples/s, test -ELBO %.2f"
                .formatted(threads, run.steps(), libSamples, libSec, libSamples / libSec, testNegElbo(lib, test)));
    }
    // ---- scoring: latent means + MSE score of the 10,000 test rows
    Dataset<Row> testDf = frame(spark, test, 2);
    float[][] tx = new float[test.rows()][];
    for (int r = 0; r < test.rows(); r++) {
        tx[r] = test.row(r);
    }
    AnomalyDetector det = AnomalyDetector.of(lib, AnomalyDetector.Score.MSE, 1, 0);
    double bestLib1 = Double.MAX_VALUE, bestLib2 = Double.MAX_VALUE, bestSpark = Double.MAX_VALUE;
    AutoencoderModel sm = new AutoencoderModel(lib).setScoreCol("score");
    double bestPass = Double.MAX_VALUE;
    final Autoencoder scored = lib;
    for (int rep = 0; rep < 3; rep++) {
        long a = System.nanoTime();
        for (int from = 0; from < tx.length; from += 256) {
            float[][] b = Arrays.copyOfRange(tx, from, Math.min(tx.length, from + 256));
            scored.encode(b);
            det.score(b);
        }
        bestLib1 = Math.min(bestLib1, (System.nanoTime() - a) / 1e9);
        a = System.nanoTime();
        Thread[] th = new Thread[2];
        for (int t = 0; t < 2; t++) {
            int half = t;
            th[t] = new Thread(() -> {
                for (int from = half * tx.length / 2; from < (half + 1) * tx.length / 2; from += 256) {
                    float[][] b = Arrays.copyOfRange(tx, from, Math.min((half + 1) * tx.length / 2, from + 256));
                    scored.encode(b);
                    det.score(b);
                }
            });
            th[t].start();
        }
        for (Thread t : th) {
            t.join();
        }
        bestLib2 = Math.min(bestLib2, (System.nanoTime() - a) / 1e9);
        a = System.nanoTime();
        long n = sm.transform(testDf).count();
        bestSpark = Math.min(bestSpark, (System.nanoTime() - a) / 1e9);
        a = System.nanoTime();   // Spark's own part: the same rows through a mapPartitions that copies them, plus two columns
        StructType passSchema = testDf.schema().add("latent", SQLDataTypes.VectorType(), false).add("score", DataTypes.DoubleType, false);
        testDf.mapPartitions(new Copy(), org.apache.spark.sql.Encoders.row(passSchema)).count();
        bestPass = Math.min(bestPass, (System.nanoTime() - a) / 1e9);
        if (n != test.rows()) {
            throw new IllegalStateException(n + " rows scored");
        }
    }
    IO.println("scoring (latent + MSE score, batches of 256), best of 3: library 1 thread %.0f rows/s, library 2 threads %.0f rows/s,"
            .formatted(test.rows() / bestLib1, test.rows() / bestLib2) + " Spark local[2] (2 partitions) %.0f rows/s; Spark's row handling alone (the rows copied, no model) %.0f rows/s"
            .formatted(test.rows() / bestSpark, test.rows() / bestPass));

    // ---- data-parallel training, 2 partitions, about the same budget of samples for each K (after a warm-up fit)
    Dataset<Row> trainDf = frame(spark, single, 2);
    new AutoencoderEstimator().setSpec(W1).setBatchSize(128).setLocalSteps(10).setRounds(2).fit(trainDf);
    IO.println("K      rounds  samples   seconds  samples/s  test -ELBO  round s (median)  task s  overhead s  broadcast  job-task  average");
    for (int k : new int[] {1, 10, 100}) {
        int rounds = Math.max(1, (int) Math.round(libSamples / (2.0 * k * 128)));
        List<Double> round = new ArrayList<>(), task = new ArrayList<>(), over = new ArrayList<>(), bc = new ArrayList<>(),
                jt = new ArrayList<>(), avg = new ArrayList<>();
        long[] rows = {0};
        AutoencoderEstimator est = new AutoencoderEstimator().setSpec(W1).setBatchSize(128).setSeed(42).setLocalSteps(k).setRounds(rounds)
                .setLatentCol("").setRoundListener((RoundStats s) -> {
                    round.add(s.seconds());
                    task.add(s.slowestTaskSeconds());
                    over.add(s.seconds() - s.slowestTaskSeconds());
                    bc.add(s.broadcastSeconds());
                    jt.add(s.jobSeconds() - s.slowestTaskSeconds());
                    avg.add(s.averageSeconds());
                    rows[0] += s.rows();
                });
        long a = System.nanoTime();
        AutoencoderModel m = est.fit(trainDf);
        double sec = (System.nanoTime() - a) / 1e9;
        IO.println("%-6d %6d %8d %9.1f %10.0f %11.2f %17.3f %7.3f %11.3f %10.3f %9.3f %8.3f".formatted(k, rounds, rows[0], sec, rows[0] / sec,
                testNegElbo(m.autoencoder(), test), median(round), median(task), median(over), median(bc), median(jt), median(avg)));
    }
    spark.stop();
}
