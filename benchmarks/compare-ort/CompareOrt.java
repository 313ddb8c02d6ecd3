import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Simd;
import org.latent4j.onnx.OnnxModel;

/**
 * The same ONNX file run by ONNX Runtime's Java API (native code, CPU execution provider, all graph
 * optimizations) and by latent4j's OnnxModel (pure Java), for each model of the folder given:
 * outputs compared on a batch of 256 random inputs in [0, 1); batch 1 timed as the median of 10,000
 * calls (after 2,000 warm-up calls) and batch 256 as the throughput over 5 s (after 1 s of warm-up),
 * on 1 and 2 threads (ONNX Runtime: intra-op threads, one inter-op; latent4j: Parallelism.of).
 * Each call includes what an application does: wrap the input, run, copy the outputs out.
 */
public final class CompareOrt {
    static final int CALLS = 10_000, WARM_CALLS = 2_000, BIG = 256;
    static final double SECONDS = 5, WARM_SECONDS = 1;

    interface Engine extends AutoCloseable {
        Map<String, float[]> run(int batch, float[] x) throws Exception;

        @Override
        void close() throws OrtException;
    }

    static Engine latent4j(Path file, int threads) throws Exception {
        Parallelism p = Parallelism.of(threads);
        OnnxModel m = OnnxModel.load(file, p);
        System.out.println("  latent4j plan (" + threads + " thread(s)): " + m.describe());
        return new Engine() {
            public Map<String, float[]> run(int batch, float[] x) {
                return m.run(batch, x);
            }

            public void close() {
                p.close();
            }
        };
    }

    static Engine ort(Path file, int threads, OrtEnvironment env) throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(threads);
        o.setInterOpNumThreads(1);
        o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        OrtSession s = env.createSession(file.toString(), o);
        String input = s.getInputNames().iterator().next();
        long[] shape = ((ai.onnxruntime.TensorInfo) s.getInputInfo().get(input).getInfo()).getShape();
        List<String> outputs = new ArrayList<>(s.getOutputNames());
        return new Engine() {
            public Map<String, float[]> run(int batch, float[] x) throws OrtException {
                long[] dims = shape.clone();
                dims[0] = batch;
                Map<String, float[]> out = new LinkedHashMap<>();
                try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), dims); OrtSession.Result r = s.run(Map.of(input, t))) {
                    for (int i = 0; i < outputs.size(); i++) {
                        FloatBuffer b = ((OnnxTensor) r.get(i)).getFloatBuffer();
                        float[] v = new float[b.remaining()];
                        b.get(v);
                        out.put(outputs.get(i), v);
                    }
                }
                return out;
            }

            public void close() throws OrtException {
                s.close();
                o.close();
            }
        };
    }

    record Timing(double batch1Micros, double batchSamplesPerSecond) {}

    static Timing time(Engine e, float[] one, float[] big) throws Exception {
        for (int i = 0; i < WARM_CALLS; i++) {
            e.run(1, one);
        }
        long[] t = new long[CALLS];
        for (int i = 0; i < CALLS; i++) {
            long t0 = System.nanoTime();
            e.run(1, one);
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        double median = (t[CALLS / 2 - 1] + t[CALLS / 2]) / 2.0 / 1e3;
        long end = System.nanoTime() + (long) (WARM_SECONDS * 1e9);
        while (System.nanoTime() < end) {
            e.run(BIG, big);
        }
        long start = System.nanoTime();
        int calls = 0;
        do {
            e.run(BIG, big);
            calls++;
        } while (System.nanoTime() - start < SECONDS * 1e9);
        double s = (System.nanoTime() - start) / 1e9;
        return new Timing(median, calls * (double) BIG / s);
    }

    static double maxDiff(Map<String, float[]> a, Map<String, float[]> b) {
        double d = 0;
        for (String k : a.keySet()) {
            float[] x = a.get(k), y = b.get(k);
            if (y == null || x.length != y.length) {
                throw new IllegalStateException("output " + k + " differs in size");
            }
            for (int i = 0; i < x.length; i++) {
                d = Math.max(d, Math.abs((double) x[i] - y[i]));
            }
        }
        return d;
    }

    static double medianMicros(Runnable call) {
        for (int i = 0; i < WARM_CALLS; i++) {
            call.run();
        }
        long[] t = new long[CALLS];
        for (int i = 0; i < CALLS; i++) {
            long t0 = System.nanoTime();
            call.run();
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        return (t[CALLS / 2 - 1] + t[CALLS / 2]) / 2.0 / 1e3;
    }

    static double samplesPerSecond(Runnable call) {
        long end = System.nanoTime() + (long) (WARM_SECONDS * 1e9);
        while (System.nanoTime() < end) {
            call.run();
        }
        long start = System.nanoTime();
        int calls = 0;
        do {
            call.run();
            calls++;
        } while (System.nanoTime() - start < SECONDS * 1e9);
        return calls * (double) BIG / ((System.nanoTime() - start) / 1e9);
    }

    /**
     * The W1 VAE (784-512-256 ReLU -> Gaussian 32, mirrored, Bernoulli; latent4j's initialization,
     * seed 1) through latent4j's model API (Autoencoder.reconstruct of one row, encode of 256 rows,
     * what the CLI and the servers call) and ONNX Runtime on the same weights exported by
     * latent4j (reconstruct.onnx and encoder.onnx), in one run: batch-1 reconstruct latency and
     * batch-256 encode throughput at 1 and 2 threads.
     */
    static void w1(OrtEnvironment env) throws Exception {
        org.latent4j.dsl.ModelSpec spec = org.latent4j.dsl.Model.encoder(784).dense(512).relu().dense(256).relu().gaussianLatent(32)
                .decoder().dense(256).relu().dense(512).relu().dense(784).bernoulli();
        org.latent4j.graph.Graph g = org.latent4j.graph.Graph.build(spec).fuse();
        org.latent4j.model.Autoencoder base = org.latent4j.model.Autoencoder.of(spec, org.latent4j.train.Trainer.initialParams(g, 1));
        Path dir = Files.createTempDirectory("w1-onnx");
        org.latent4j.onnx.OnnxExport.write(base, dir);
        org.latent4j.data.Dataset test = org.latent4j.data.FashionMnist.bundledTest();
        float[][] rows = new float[BIG][];
        for (int i = 0; i < BIG; i++) {
            rows[i] = test.row(i);
        }
        float[][] one = {rows[0]};
        float[] flat = new float[BIG * 784];
        for (int i = 0; i < BIG; i++) {
            System.arraycopy(rows[i], 0, flat, i * 784, 784);
        }
        float[] flatOne = Arrays.copyOf(flat, 784);
        System.out.println("W1 VAE (latent4j's weights, seed 1; ONNX Runtime on latent4j's export of them, " + dir + "):");
        // Accuracy of the bfloat16 weights: batch-1 reconstruct of 256 test rows against the float model.
        org.latent4j.model.Autoencoder half = base.withBf16Weights(true);
        float[][] exact = base.reconstruct(rows);
        double worst = 0, sum = 0;
        for (int i = 0; i < BIG; i++) {
            float[] h = half.reconstruct(new float[][] {rows[i]})[0];
            for (int j = 0; j < h.length; j++) {
                double d = Math.abs((double) h[j] - exact[i][j]);
                worst = Math.max(worst, d);
                sum += d;
            }
        }
        System.out.printf("  bf16 weights: reconstruct of 256 test rows (batch 1) vs float weights: max abs error %.3g, mean %.3g%n", worst,
                sum / (BIG * 784.0));
        List<String> table = new ArrayList<>();
        for (int threads = 1; threads <= 2; threads++) {
            double ortRec, ortEnc;
            try (Engine rec = ort(dir.resolve("reconstruct.onnx"), threads, env); Engine enc = ort(dir.resolve("encoder.onnx"), threads, env)) {
                double d = 0;
                float[] r = rec.run(1, flatOne).values().iterator().next();
                float[] mine = base.reconstruct(one)[0];
                for (int j = 0; j < mine.length; j++) {
                    d = Math.max(d, Math.abs((double) r[j] - mine[j]));
                }
                System.out.printf("  %d thread(s): largest |ORT - latent4j| on a reconstruct of one row %.3g%n", threads, d);
                ortRec = medianMicros(() -> run(rec, 1, flatOne));
                ortEnc = samplesPerSecond(() -> run(enc, BIG, flat));
            }
            String ortLine = String.format("| ONNX Runtime %d intra-op | %d | %.1f | | %,.0f | |", threads, threads, ortRec, ortEnc);
            table.add(ortLine);
            System.out.println("  " + ortLine);
            for (boolean bf16 : new boolean[] {false, true}) {
                org.latent4j.model.Autoencoder m = base.withThreadsPerCall(threads).withBf16Weights(bf16);
                double rec = medianMicros(() -> m.reconstruct(one));
                double enc = bf16 ? Double.NaN : samplesPerSecond(() -> m.encode(rows));
                String line = String.format("| latent4j Autoencoder%s%s | %d | %.1f | %.2f | %s | %s |", threads > 1 ? ".withThreadsPerCall(" + threads + ")" : "",
                        bf16 ? ".withBf16Weights(true)" : "", threads, rec, rec / ortRec, bf16 ? "(float weights)" : String.format("%,.0f", enc),
                        bf16 ? "" : String.format("%.2f", enc / ortEnc));
                table.add(line);
                System.out.println("  " + line);
            }
            // The encode plan alone (no float[][] copies in or out), on the same threads.
            org.latent4j.kernel.Parallelism par = org.latent4j.kernel.Parallelism.of(threads);
            org.latent4j.runtime.Executor ex = new org.latent4j.runtime.Executor(org.latent4j.graph.Planner.forward(g, 0, Math.max(g.mu, g.logvar)),
                    par, BIG, true);
            float[] params = base.parameters();
            double plan = samplesPerSecond(() -> {
                ex.load(g.input, flat, 0, BIG);
                ex.run(params, null, BIG, 0, 0, 1f);
            });
            par.close();
            String line = String.format("| latent4j encode plan alone (Executor, no float[][]) | %d | | | %,.0f | %.2f |", threads, plan, plan / ortEnc);
            table.add(line);
            System.out.println("  " + line);
        }
        System.out.println();
        System.out.println("| W1 VAE | threads | reconstruct batch 1 µs (median of " + CALLS + ") | / ORT time | encode batch 256 samples/s | / ORT throughput |");
        System.out.println("|---|---|---|---|---|---|");
        table.forEach(System.out::println);
        System.out.println();
    }

    static void run(Engine e, int batch, float[] x) {
        try {
            e.run(batch, x);
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name")).findFirst()
                .map(l -> l.substring(l.indexOf(':') + 2)).orElse("?");
        System.out.println("CPU " + cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores; JDK " + Runtime.version()
                + "; latent4j SIMD float x " + Simd.LANES + "; ONNX Runtime " + env.getVersion() + " (Java API), providers "
                + OrtEnvironment.getAvailableProviders() + ", CPU execution provider, ALL_OPT");
        boolean w1Only = Arrays.asList(args).contains("--w1");
        if (!Arrays.asList(args).contains("--no-w1")) {
            w1(env);
        }
        if (w1Only) {
            return;
        }
        List<Path> models;
        try (var s = Files.list(dir)) {
            models = s.filter(p -> p.toString().endsWith(".onnx")).sorted().toList();
        }
        List<String> table = new ArrayList<>();
        for (Path m : models) {
            System.out.println(m.getFileName() + ":");
            SplittableRandom r = new SplittableRandom(7);
            OnnxModel probe = OnnxModel.load(m);
            int per = 1;
            for (int d : probe.inputShape(probe.inputNames().get(0))) {
                per *= d;
            }
            float[] big = new float[BIG * per];
            for (int i = 0; i < big.length; i++) {
                big[i] = (float) r.nextDouble();
            }
            float[] one = Arrays.copyOf(big, per);
            for (int threads = 1; threads <= 2; threads++) {
                try (Engine l = latent4j(m, threads); Engine o = ort(m, threads, env)) {
                    double d256 = maxDiff(o.run(BIG, big), l.run(BIG, big)), d1 = maxDiff(o.run(1, one), l.run(1, one));
                    System.out.printf("  %d thread(s): largest |ORT - latent4j| %.3g (batch 256), %.3g (batch 1)%n", threads, d256, d1);
                    Timing tl = time(l, one, big), to = time(o, one, big);
                    table.add(String.format("| %s | %d | %.1f | %.1f | %.2f | %,.0f | %,.0f | %.2f | %.2g |", m.getFileName(), threads,
                            tl.batch1Micros(), to.batch1Micros(), tl.batch1Micros() / to.batch1Micros(), tl.batchSamplesPerSecond(),
                            to.batchSamplesPerSecond(), tl.batchSamplesPerSecond() / to.batchSamplesPerSecond(), Math.max(d1, d256)));
                    System.out.println("  " + table.getLast());
                }
            }
        }
        System.out.println();
        System.out.println("| model | threads | batch 1 latent4j µs | batch 1 ORT µs | latent4j / ORT time | batch 256 latent4j samples/s "
                + "| batch 256 ORT samples/s | latent4j / ORT throughput | max abs diff |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        table.forEach(System.out::println);
    }
}
