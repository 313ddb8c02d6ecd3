// Feeds latent4j each bad input of RELIABILITY.md and prints the answer it gets, as a Markdown
// table (the table in RELIABILITY.md is this script's output):
//   ./latent4j run benchmarks/reliability/BadInputs.java
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.zip.GZIPOutputStream;
import org.latent4j.cli.Main;
import org.latent4j.data.Csv;
import org.latent4j.data.Dataset;
import org.latent4j.data.Idx;
import org.latent4j.data.Npy;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.LinearModel;
import org.latent4j.model.Models;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

static Path dir;

static String shorten(String s) {
    return s.replace(dir.toString(), "DIR").replace("|", "\\|").replace("\n", " ");
}

static void row(String input, Callable<?> action) {
    String answer;
    try {
        Object r = action.call();
        answer = "no error: " + r;
    } catch (Exception e) {
        answer = e.getClass().getSimpleName() + ": " + e.getMessage();
    }
    System.out.println("| " + input + " | " + shorten(answer) + " |");
}

static void cli(String input, String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    System.out.println("| " + input + " | exit " + code + ": `" + shorten(err.toString().strip()) + "` |");
}

static Path write(String name, byte[] b) throws Exception {
    return Files.write(dir.resolve(name), b);
}

static Path write(String name, String s) throws Exception {
    return Files.writeString(dir.resolve(name), s);
}

static byte[] idx(int magic, int n, int r, int c, int payload) {
    return ByteBuffer.allocate(16 + payload).order(ByteOrder.BIG_ENDIAN).putInt(magic).putInt(n).putInt(r).putInt(c).array();
}

static byte[] npy(String descr, boolean fortran, String shape, int dataBytes) {
    String h = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (" + shape + "), }";
    h = h + " ".repeat((64 - (11 + h.length()) % 64) % 64) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10 + h.length() + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    return b.putShort((short) h.length()).put(h.getBytes(StandardCharsets.US_ASCII)).array();
}

static byte[] safetensors(String header, int data) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + h.length + data).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array();
}

void main() throws Exception {
    dir = Files.createTempDirectory("latent4j-bad");
    System.out.println("| bad input | answer |");
    System.out.println("| --- | --- |");
    // ---- data
    Path csv = write("ragged.csv", "1,2,3\n4,5\n");
    row("CSV with a ragged row", () -> Csv.read(csv));
    Path cell = write("cell.csv", "1,2\n3,abc\n");
    row("CSV with a non-numeric cell", () -> Csv.read(cell));
    Path nan = write("nan.csv", "1,2\n3,nan\n5,inf\n7,8\n");
    row("CSV with NaN / inf (default)", () -> Csv.read(nan));
    row("the same with `dropNonFinite` / `--drop-non-finite`", () -> "kept " + Csv.read(nan, true).rows() + " rows, dropped "
            + Csv.read(nan, true).droppedRows());
    Path empty = write("empty.csv", "a,b\n");
    row("CSV with a header and no rows", () -> Csv.read(empty));
    Path wide = write("wide.csv", "1,2,3,4,5\n");
    Path pcaDir = dir.resolve("pca");
    Path small = write("small.csv", "1,2,3,4\n2,2,1,0\n0,1,5,2\n3,3,3,1\n");
    LinearModel.of(Pca.fit(Csv.read(small), 1, Parallelism.serial())).save(pcaDir.resolve("model.safetensors"));
    cli("data with the wrong feature count for the model", "encode", "--model", pcaDir.resolve("model.safetensors").toString(),
            "--data", wide.toString(), "--out", dir.resolve("codes.csv").toString());
    row("labels whose count differs from the rows", () -> new Dataset(new float[6], 3, 2, new int[4], "in memory"));
    Path magic = write("m-idx3-ubyte", idx(0x12340803, 1, 2, 2, 4));
    row("IDX with a wrong magic number", () -> Idx.readImages(magic, null));
    Path trunc = write("t-idx3-ubyte", idx(0x803, 10, 28, 28, 100));
    row("IDX with a truncated payload", () -> Idx.readImages(trunc, null));
    Path huge = write("h-idx3-ubyte", idx(0x803, 2_000_000_000, 28, 28, 0));
    row("IDX whose header claims 1.5 TB", () -> Idx.readImages(huge, null));
    var bo = new java.io.ByteArrayOutputStream();
    try (var g = new GZIPOutputStream(bo)) {
        g.write(idx(0x803, 100, 28, 28, 100 * 784));
    }
    byte[] gz = bo.toByteArray();
    Path cut = write("c-idx3-ubyte.gz", java.util.Arrays.copyOf(gz, gz.length / 2));
    row("IDX .gz cut in half", () -> Idx.readImages(cut, null));
    byte[] flipped = gz.clone();
    for (int i = 12; i < 40; i++) {
        flipped[i] ^= 0x55;
    }
    Path corrupt = write("x-idx3-ubyte.gz", flipped);
    row("IDX .gz with corrupt deflate data", () -> Idx.readImages(corrupt, null));
    Path i8 = write("i8.npy", npy("<i8", false, "2, 2", 32));
    row(".npy of dtype int64", () -> Npy.read(i8));
    Path fo = write("f.npy", npy("<f4", true, "2, 2", 16));
    row(".npy in Fortran order", () -> Npy.read(fo));
    Path over = write("o.npy", npy("<f4", false, "9223372036854775807, 4", 16));
    row(".npy whose shape overflows", () -> Npy.read(over));
    // ---- model files
    ModelSpec spec = Model.encoder(4).dense(3).relu().gaussianLatent(2).decoder().dense(4).bernoulli();
    Path good = dir.resolve("good.safetensors");
    Autoencoder.of(spec, new float[Graph.build(spec).fuse().paramCount()]).save(good);
    byte[] g = Files.readAllBytes(good);
    Path t = write("trunc.safetensors", java.util.Arrays.copyOf(g, g.length - 40));
    row("model file truncated", () -> Models.load(t));
    byte[] hl = g.clone();
    ByteBuffer.wrap(hl).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
    Path hlen = write("hlen.safetensors", hl);
    row("header length larger than the file", () -> Models.load(hlen));
    Path off = write("off.safetensors", safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,400000000000]}}", 16));
    row("tensor offsets out of range (claims 400 GB)", () -> Models.load(off));
    Path ov = write("ov.safetensors", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 24));
    row("overlapping tensors", () -> Models.load(ov));
    Path dt = write("dt.safetensors", safetensors("{\"w\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8));
    row("a dtype other than F32", () -> Models.load(dt));
    Path sp = write("sp.safetensors", safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,4],\"data_offsets\":[0,16]}}", 16));
    row("shape product that overflows", () -> Models.load(sp));
    String text = new String(g, StandardCharsets.UTF_8);
    Path sh = write("sh.safetensors", text.replace("\\\"dense\\\":3", "\\\"dense\\\":5").getBytes(StandardCharsets.UTF_8));
    row("tensor shape that disagrees with the spec", () -> Models.load(sh));
    Path bad = write("bad.safetensors", text.replace("\\\"dense\\\":3", "\\\"conv2d\\\":3").getBytes(StandardCharsets.UTF_8));
    row("spec naming an unknown layer", () -> Models.load(bad));
    Path mal = write("mal.safetensors", text.replace("{\\\"format\\\"", "{{\\\"format\\\"").getBytes(StandardCharsets.UTF_8));
    row("malformed spec JSON", () -> Models.load(mal));
    // ---- command line
    cli("unknown option", "train", "--epohcs", "3");
    cli("bad option value", "train", "--epochs", "ten");
    cli("missing model file", "info", "--model", dir.resolve("nope.safetensors").toString());
    cli("missing data folder", "train", "--data", dir.resolve("nowhere").toString());
    Path file = write("a-file", "x");
    cli("output folder that cannot be written", "train", "--epochs", "1", "--out", file.resolve("run").toString());
    // ---- training
    float[] x = new float[64 * 8];
    for (int i = 0; i < x.length; i++) {
        x[i] = (float) Math.sin(i * 0.37);
    }
    for (int j = 0; j < 8; j++) {
        x[37 * 8 + j] = 3e37f;
    }
    Dataset d = new Dataset(x, 64, 8, null, "synthetic");
    ModelSpec ae = Model.encoder().dense(16).relu().latent(4).decoder().dense(16).relu().dense(8).gaussian();
    TrainingConfig cfg = TrainingConfig.defaults().withEpochs(2).withBatchSize(16).withOptimizer(OptimizerSpec.sgd(0.01f));
    row("training on a row whose loss overflows (default)", () -> Trainer.fit(ae, d, null, cfg, TrainingListener.NONE));
    row("the same with `OnNonFinite.SKIP` / `--skip-non-finite`", () -> "trained; skipped batches per epoch: "
            + Trainer.fit(ae, d, null, cfg.withOnNonFinite(TrainingConfig.OnNonFinite.SKIP), TrainingListener.NONE).history()
                    .stream().map(s -> s.skippedBatches()).toList());
}
