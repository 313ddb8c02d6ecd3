package org.latent4j.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serial;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.Autoencoder;

/**
 * A trained latent4j autoencoder or VAE as a Spark ML Transformer: {@link #transform} appends to
 * each row its latent means ({@code latentCol}), its reconstruction ({@code reconstructionCol})
 * and its anomaly score ({@code scoreCol}, any {@link AnomalyDetector.Score}) with the verdict
 * ({@code verdictCol}, score &gt; threshold) when a threshold is set. The numbers are bitwise
 * those of the library ({@link Autoencoder#encode}, {@link Autoencoder#reconstruct},
 * {@link AnomalyDetector#score}) on the same rows: the model file's bytes are broadcast once,
 * compiled once per executor JVM (shared by its tasks, {@link ExecutorModels}), and each task
 * sends its rows through the kernels {@code batchRows} at a time, reading features straight
 * into one reused batch arena.
 *
 * <p>Saved by Spark ML persistence ({@link #write()}, {@link #load}; also inside a
 * {@code PipelineModel}) as the Params metadata and {@code data/model.safetensors}, the very model
 * file that {@code Autoencoder.load} reads.
 */
public final class AutoencoderModel extends Model<AutoencoderModel> implements AutoencoderParams<AutoencoderModel>, MLWritable {
    @Serial
    private static final long serialVersionUID = 1L;
    /** Where the model file lies under a saved stage's directory. */
    static final String MODEL_FILE = "data/model.safetensors";

    private final String uid;
    private final Columns columns;
    private final byte[] modelFile;
    private transient Autoencoder model;
    private transient Broadcast<ExecutorModels.ModelFile> broadcast;
    private transient org.apache.spark.SparkContext broadcastContext;
    private transient List<RoundStats> rounds = List.of();

    /** A model from the bytes of a latent4j model file (checked now: a bad file is refused here, not in a task). */
    public AutoencoderModel(String uid, byte[] modelFile) {
        this.uid = uid;
        this.columns = new Columns(this);
        this.modelFile = modelFile.clone();
        this.model = ExecutorModels.read(this.modelFile, "the model file");
    }

    /** A model of a trained {@link Autoencoder} (e.g. one loaded from its file or trained in one JVM). */
    public AutoencoderModel(Autoencoder model) {
        this(Identifiable$.MODULE$.randomUID("latent4jAutoencoder"), ExecutorModels.bytes(model));
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public Columns columnParams() {
        return columns;
    }

    /** The library model, for use in the driver (the same weights the executors compile). */
    public Autoencoder autoencoder() {
        if (model == null) {
            model = ExecutorModels.read(modelFile, "the model file");
        }
        return model;
    }

    /** The bytes of the model's safetensors file (a copy). */
    public byte[] modelFile() {
        return modelFile.clone();
    }

    /** The training rounds that made this model (cost and loss of each), empty for a loaded one. */
    public List<RoundStats> trainingRounds() {
        return rounds == null ? List.of() : rounds;
    }

    AutoencoderModel withRounds(List<RoundStats> r) {
        this.rounds = List.copyOf(r);
        return this;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        StructType out = outputSchema(schema);
        if (!getScoreCol().isEmpty() || !Double.isNaN(getThreshold())) {
            detector();
        }
        if (autoencoder().conditionDim() > 0) {
            throw new IllegalArgumentException("the model is conditional (" + autoencoder().conditionDim() + " condition values per row);"
                    + " AutoencoderModel scores unconditional models only");
        }
        return out;
    }

    /** The detector of the score settings (refused when the score does not fit the model, e.g. neg_elbo of an autoencoder). */
    private AnomalyDetector detector() {
        AnomalyDetector d = AnomalyDetector.of(autoencoder(), AutoencoderParams.scoreKindOf(getScoreKind()), getScoreSamples(), getScoreSeed());
        return Double.isNaN(getThreshold()) ? d : d.withThreshold(getThreshold());
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        SparkRows.requireVectorModule("driver");
        StructType in = dataset.schema();
        StructType out = transformSchema(in);
        if (getBatchRows() < 1) {
            throw new IllegalArgumentException("batchRows must be at least 1, got " + getBatchRows());
        }
        Settings s = new Settings(in.fieldIndex(getFeaturesCol()), getFeaturesCol(), autoencoder().inputDim(), in.fields().length,
                !getLatentCol().isEmpty(), !getReconstructionCol().isEmpty(), !getScoreCol().isEmpty(), !Double.isNaN(getThreshold()),
                getScoreKind(), getScoreSamples(), getScoreSeed(), getThreshold(), getBatchRows());
        return dataset.toDF().mapPartitions(new ScorePartition(broadcast(dataset.sparkSession()), s), Encoders.row(out));
    }

    /** The model file broadcast to the executors, once per Spark context. */
    private synchronized Broadcast<ExecutorModels.ModelFile> broadcast(SparkSession spark) {
        if (broadcast == null || broadcastContext != spark.sparkContext()) {
            broadcastContext = spark.sparkContext();
            broadcast = JavaSparkContext.fromSparkContext(broadcastContext).broadcast(ExecutorModels.ModelFile.of(modelFile));
        }
        return broadcast;
    }

    /** What a scoring task needs besides the model (small, serializable). */
    record Settings(int featuresIndex, String featuresCol, int width, int inputColumns, boolean latent, boolean reconstruction,
                    boolean score, boolean verdict, String scoreKind, int samples, long seed, double threshold, int batch)
            implements java.io.Serializable {}

    /** One task's scoring: rows in batches through the executor's compiled model. */
    static final class ScorePartition implements MapPartitionsFunction<Row, Row> {
        @Serial
        private static final long serialVersionUID = 1L;
        private final Broadcast<ExecutorModels.ModelFile> file;
        private final Settings s;

        ScorePartition(Broadcast<ExecutorModels.ModelFile> file, Settings s) {
            this.file = file;
            this.s = s;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            SparkRows.requireVectorModule("executor");
            Autoencoder m = ExecutorModels.get(file.value());
            AnomalyDetector d = !s.score() && !s.verdict() ? null : AnomalyDetector.of(m, AutoencoderParams.scoreKindOf(s.scoreKind()),
                    s.samples(), s.seed());
            int partition = org.apache.spark.TaskContext.getPartitionId();
            return new Batches(rows, m, d, s, partition);
        }
    }

    /** Reads up to {@code batch} rows, scores them in one call per output, hands them out one by one. */
    private static final class Batches implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final Autoencoder m;
        private final AnomalyDetector d;
        private final Settings s;
        private final int partition;
        private final Row[] in;
        private final float[][] x;
        private final Row[] out;
        private int n, next;
        private long rowNumber;

        Batches(Iterator<Row> rows, Autoencoder m, AnomalyDetector d, Settings s, int partition) {
            this.rows = rows;
            this.m = m;
            this.d = d;
            this.s = s;
            this.partition = partition;
            in = new Row[s.batch()];
            x = new float[s.batch()][s.width()];
            out = new Row[s.batch()];
        }

        @Override
        public boolean hasNext() {
            if (next < n) {
                return true;
            }
            fill();
            return n > 0;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Row r = out[next];
            out[next++] = null;
            return r;
        }

        private void fill() {
            n = 0;
            next = 0;
            while (n < in.length && rows.hasNext()) {
                Row r = rows.next();
                SparkRows.readFeatures(r, s.featuresIndex(), x[n], 0, s.width(), s.featuresCol(), rowNumber++, partition);
                in[n++] = r;
            }
            if (n == 0) {
                return;
            }
            float[][] batch = n == x.length ? x : Arrays.copyOf(x, n);
            float[][] z = s.latent() || s.reconstruction() ? m.encode(batch) : null;
            float[][] rec = s.reconstruction() ? m.decode(z) : null;
            double[] score = d == null ? null : d.score(batch);
            int extra = (s.latent() ? 1 : 0) + (s.reconstruction() ? 1 : 0) + (s.score() ? 1 : 0) + (s.verdict() ? 1 : 0);
            for (int r = 0; r < n; r++) {
                Object[] v = new Object[s.inputColumns() + extra];
                for (int c = 0; c < s.inputColumns(); c++) {
                    v[c] = in[r].get(c);
                }
                int c = s.inputColumns();
                if (s.latent()) {
                    v[c++] = vector(z[r]);
                }
                if (s.reconstruction()) {
                    v[c++] = vector(rec[r]);
                }
                if (s.score()) {
                    v[c++] = score[r];
                }
                if (s.verdict()) {
                    v[c] = score[r] > s.threshold();
                }
                out[r] = RowFactory.create(v);
                in[r] = null;
            }
        }

        private static DenseVector vector(float[] f) {
            double[] a = new double[f.length];
            for (int j = 0; j < f.length; j++) {
                a[j] = f[j];
            }
            return new DenseVector(a);
        }
    }

    @Override
    public AutoencoderModel copy(ParamMap extra) {
        AutoencoderModel c = new AutoencoderModel(uid, modelFile);
        c.rounds = rounds;
        return copyValues(c, extra).setParent(parent());
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    /** The reader of a saved model (Spark ML calls it by this name, e.g. from {@code PipelineModel.load}). */
    public static MLReader<AutoencoderModel> read() {
        return new Reader();
    }

    public static AutoencoderModel load(String path) {
        return read().load(path);
    }

    /** Writes the Params metadata and the model file under the stage's directory (any Hadoop file system). */
    private static final class Writer extends MLWriter {
        private final AutoencoderModel m;

        Writer(AutoencoderModel m) {
            this.m = m;
        }

        @Override
        public void saveImpl(String path) {
            DefaultParamsWriter.saveMetadata(m, path, sparkSession());
            org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(path, MODEL_FILE);
            try {
                FileSystem fs = file.getFileSystem(sparkSession().sparkContext().hadoopConfiguration());
                try (OutputStream o = fs.create(file, true)) {
                    o.write(m.modelFile);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(file + ": " + e.getMessage(), e);
            }
        }
    }

    private static final class Reader extends MLReader<AutoencoderModel> {
        @Override
        public AutoencoderModel load(String path) {
            var metadata = DefaultParamsReader.loadMetadata(path, sparkSession(), AutoencoderModel.class.getName());
            org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(path, MODEL_FILE);
            byte[] bytes;
            try {
                FileSystem fs = file.getFileSystem(sparkSession().sparkContext().hadoopConfiguration());
                try (InputStream i = fs.open(file)) {
                    bytes = i.readAllBytes();
                }
            } catch (IOException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
            AutoencoderModel m = new AutoencoderModel(metadata.uid(), bytes);
            metadata.getAndSetParams(m, scala.Option.empty());
            return m;
        }
    }
}
