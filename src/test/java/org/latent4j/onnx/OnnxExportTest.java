package org.latent4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.ParamSpec;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;
import org.latent4j.linear.Ppca;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.LatentModel;
import org.latent4j.model.LinearModel;
import org.latent4j.model.Scaling;
import org.latent4j.onnx.OnnxReference.T;
import org.latent4j.onnx.proto.Onnx;

/**
 * The exported ONNX files, read back with the protobuf classes and run by a double-precision
 * reference interpreter written from the ONNX operator definitions ({@link OnnxReference}), give
 * latent4j's own encode, log-variance, decode and reconstruct to 1e-5 on every model kind: dense
 * VAEs and autoencoders (batch norm, every activation with a parameter, a clamped log-variance,
 * dropout), input scalings (standardize, min-max, log1p), a conditional VAE, a convolutional
 * autoencoder (conv, batch norm on channels, max and average pooling, a residual block,
 * upsampling, a transposed conv), PCA and PPCA. Plus the graph's structure: opset, dynamic batch,
 * the scaling's Sub / Div nodes and the PyTorch-named initializers holding the model's values.
 */
class OnnxExportTest {
    static final SplittableRandom RNG = new SplittableRandom(7);

    /** A model of the spec with random weights (running variances positive). */
    static Autoencoder random(ModelSpec spec, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Graph g = Graph.build(spec);
        float[] p = new float[g.paramCount()];
        for (ParamSpec s : g.params().values()) {
            for (int i = 0; i < s.size(); i++) {
                double u = r.nextDouble(-0.6, 0.6);
                p[s.offset() + i] = (float) (s.name().endsWith("running_var") ? 0.5 + Math.abs(u) : u);
            }
        }
        return Autoencoder.of(spec, p);
    }

    static float[][] rows(int n, int d, double lo, double hi) {
        float[][] x = new float[n][d];
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                row[j] = (float) RNG.nextDouble(lo, hi);
            }
        }
        return x;
    }

    static T tensor(float[][] rows, long... sampleDims) {
        int n = rows.length, d = rows[0].length;
        long[] shape = new long[sampleDims.length + 1];
        shape[0] = n;
        System.arraycopy(sampleDims, 0, shape, 1, sampleDims.length);
        double[] v = new double[n * d];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < d; j++) {
                v[r * d + j] = rows[r][j];
            }
        }
        return new T(shape, v);
    }

    /** Written to files and read back: what another runtime would get. */
    static Map<String, Onnx.ModelProto> exported(LatentModel m, Path dir) throws IOException {
        List<Path> files = OnnxExport.write(m, dir);
        assertEquals(3, files.size());
        Map<String, Onnx.ModelProto> out = new HashMap<>();
        for (Path f : files) {
            out.put(f.getFileName().toString(), Onnx.ModelProto.parseFrom(Files.readAllBytes(f)));
        }
        return out;
    }

    static void close(float[][] expected, T actual, String what) {
        int n = expected.length, d = expected[0].length;
        assertEquals(n, actual.shape()[0], what + ": batch");
        assertEquals((long) n * d, actual.size(), what + ": values");
        double worst = 0;
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < d; j++) {
                double e = expected[r][j], a = actual.v()[r * d + j];
                double err = Math.abs(e - a) / Math.max(1, Math.abs(e));
                worst = Math.max(worst, err);
                assertTrue(err <= 1e-5, what + " row " + r + " value " + j + ": latent4j " + e + ", ONNX reference " + a);
            }
        }
        assertTrue(worst >= 0);
    }

    /**
     * Runs the three graphs of an autoencoder on x (and conditions) and checks them against the
     * model; sampleDims is the ONNX input's shape after the batch.
     */
    static void checkAutoencoder(Autoencoder m, float[][] x, float[][] c, Path dir, long... sampleDims) throws IOException {
        Map<String, Onnx.ModelProto> g = exported(m, dir);
        Map<String, T> in = new HashMap<>();
        in.put("x", tensor(x, sampleDims));
        if (c != null) {
            in.put("condition", tensor(c, c[0].length));
        }
        Map<String, T> enc = OnnxReference.run(g.get("encoder.onnx"), in);
        float[][] mu = c == null ? m.encode(x) : m.encode(x, c);
        if (m.spec().isVariational()) {
            close(mu, enc.get("mu"), "encoder mu");
            close(c == null ? m.encodeLogVariance(x) : m.encodeLogVariance(x, c), enc.get("logvar"), "encoder logvar");
        } else {
            close(mu, enc.get("code"), "encoder code");
        }
        float[][] z = rows(x.length, m.latentDim(), -1.5, 1.5);
        Map<String, T> din = new HashMap<>();
        din.put("z", tensor(z, z[0].length));
        if (c != null) {
            din.put("condition", tensor(c, c[0].length));
        }
        close(c == null ? m.decode(z) : m.decode(z, c), OnnxReference.run(g.get("decoder.onnx"), din).get("reconstruction"), "decoder");
        T rec = OnnxReference.run(g.get("reconstruct.onnx"), in).get("reconstruction");
        close(c == null ? m.reconstruct(x) : m.reconstruct(x, c), rec, "reconstruct");
        assertEquals(sampleDims.length + 1, rec.shape().length, "the reconstruction has the input's shape");
    }

    @Test
    void denseVaeWithEveryActivationBatchNormAndAClampedLogVariance(@TempDir Path dir) throws IOException {
        ModelSpec spec = Model.encoder(6).dense(9).leakyRelu(0.2f).batchNorm(0.1f, 1e-3f).dense(8).elu(0.7f).dropout(0.3f).dense(7).softplus()
                .gaussianLatent(3).clampLogVariance(-1f, 0.5f).decoder().dense(7).tanh().dense(8).sigmoid().dense(6).relu().dense(6).bernoulli();
        Autoencoder m = random(spec, 1);
        checkAutoencoder(m, rows(5, 6, 0, 1), null, dir, 6);
        // The clamp binds for some rows: the test covers both sides of it.
        float[][] lv = m.encodeLogVariance(rows(40, 6, -3, 3));
        boolean clamped = false;
        for (float[] r : lv) {
            for (float v : r) {
                clamped |= v == -1f || v == 0.5f;
            }
        }
        assertTrue(clamped, "some log-variances are clamped");
    }

    @Test
    void autoencodersWithEachInputScalingFoldIn(@TempDir Path dir) throws IOException {
        ModelSpec spec = Model.encoder(5).dense(8).relu().latent(2).tanh().decoder().dense(8).elu(1f).dense(5).gaussian();
        float[][] fit = rows(50, 5, 0, 40);
        for (Scaling s : new Scaling[] {Scaling.standardize(fit), Scaling.minMax(fit), Scaling.log1p(fit)}) {
            Autoencoder m = random(spec, 2).withInputScaling(s);
            Path d = dir.resolve(s.kind());
            checkAutoencoder(m, rows(4, 5, 0, 40), null, d, 5);
            // The scaling is the graph's first nodes, its values the scaling's own.
            Onnx.GraphProto enc = Onnx.ModelProto.parseFrom(Files.readAllBytes(d.resolve("encoder.onnx"))).getGraph();
            List<String> ops = new ArrayList<>();
            for (Onnx.NodeProto n : enc.getNodeList()) {
                ops.add(n.getOpType());
            }
            int first = s.kind().equals("log1p") ? 2 : 0;
            assertEquals(s.kind().equals("log1p") ? List.of("Add", "Log", "Sub", "Div") : List.of("Sub", "Div"), ops.subList(0, first + 2), s.kind());
            assertEquals(List.of("x"), enc.getNode(0).getInputList().subList(0, 1));
            assertArrayEqualsFloat(s.offset(), initializer(enc, "scaling.offset"));
            assertArrayEqualsFloat(s.scale(), initializer(enc, "scaling.scale"));
        }
    }

    @Test
    void conditionalVaeTakesItsCondition(@TempDir Path dir) throws IOException {
        ModelSpec spec = Model.encoder(5).conditionedOn(3).dense(6).relu().gaussianLatent(2).decoder().dense(6).relu().dense(5)
                .gaussianLearnedVariance();
        Autoencoder m = random(spec, 3);
        float[][] c = rows(4, 3, 0, 1);
        checkAutoencoder(m, rows(4, 5, -1, 1), c, dir, 5);
        Onnx.GraphProto dec = Onnx.ModelProto.parseFrom(Files.readAllBytes(dir.resolve("decoder.onnx"))).getGraph();
        assertEquals(List.of("condition", "z"), dec.getInputList().stream().map(Onnx.ValueInfoProto::getName).sorted().toList());
    }

    @Test
    void convolutionalAutoencoderWithPoolingResidualUpsamplingAndTransposedConv(@TempDir Path dir) throws IOException {
        ModelSpec spec = Model.encoder(1, 8, 8).conv2d(4, 3, 1, 1).relu().batchNorm().maxPool(2, 2).residualBlock().avgPool(2, 2).flatten()
                .dense(6).relu().latent(3).decoder().dense(16).relu().reshape(4, 2, 2).upsample(2).convTranspose2d(3, 4, 2, 1).leakyRelu(0.1f)
                .conv2d(1, 3, 1, 1).bernoulli();
        Autoencoder m = random(spec, 4);
        checkAutoencoder(m, rows(3, 64, 0, 1), null, dir, 1, 8, 8);
        Onnx.ModelProto rec = Onnx.ModelProto.parseFrom(Files.readAllBytes(dir.resolve("reconstruct.onnx")));
        List<String> ops = rec.getGraph().getNodeList().stream().map(Onnx.NodeProto::getOpType).toList();
        for (String op : List.of("Conv", "BatchNormalization", "MaxPool", "AveragePool", "Add", "Reshape", "Resize", "ConvTranspose", "Gemm",
                "Sigmoid")) {
            assertTrue(ops.contains(op), op + " in " + ops);
        }
        // The initializers carry the model file's names and values, conv weights in PyTorch's layout.
        Onnx.GraphProto g = rec.getGraph();
        ParamSpec w = m.graph().param("decoder.4.weight");
        assertEquals(List.of(4L, 3L, 4L, 4L), tensorProto(g, "decoder.4.weight").getDimsList());
        float[] expected = new float[w.size()];
        System.arraycopy(m.parameters(), w.offset(), expected, 0, w.size());
        assertArrayEqualsFloat(expected, initializer(g, "decoder.4.weight"));
    }

    @Test
    void pcaAndPpcaAsLinearLayers(@TempDir Path dir) throws IOException {
        int n = 80, d = 6;
        float[] x = new float[n * d];
        for (int r = 0; r < n; r++) {
            double a = RNG.nextGaussian(), b = RNG.nextGaussian();
            for (int j = 0; j < d; j++) {
                x[r * d + j] = (float) (a * (j + 1) - b * (j % 3) + 0.1 * RNG.nextGaussian() + 2 * j);
            }
        }
        Dataset data = new Dataset(x, n, d, null, "test");
        Pca pca = Pca.fit(data, 2, Parallelism.serial());
        float[][] in = rows(4, d, -2, 8);
        for (LinearModel m : new LinearModel[] {LinearModel.of(pca), LinearModel.of(Ppca.closedForm(pca))}) {
            Path sub = dir.resolve(m.kind());
            Map<String, Onnx.ModelProto> g = exported(m, sub);
            Map<String, T> enc = OnnxReference.run(g.get("encoder.onnx"), Map.of("x", tensor(in, d)));
            if (m.kind().equals("ppca")) {
                close(m.encode(in), enc.get("mu"), "ppca mu");
                float[] lv = m.encodeLogVariance();
                close(new float[][] {lv, lv, lv, lv}, enc.get("logvar"), "ppca logvar");
            } else {
                close(m.encode(in), enc.get("code"), "pca code");
            }
            float[][] z = rows(4, 2, -3, 3);
            close(m.decode(z), OnnxReference.run(g.get("decoder.onnx"), Map.of("z", tensor(z, 2))).get("reconstruction"), m.kind() + " decoder");
            close(m.reconstruct(in), OnnxReference.run(g.get("reconstruct.onnx"), Map.of("x", tensor(in, d))).get("reconstruction"),
                    m.kind() + " reconstruct");
        }
    }

    @Test
    void opsetIrVersionAndADynamicBatchDimension(@TempDir Path dir) throws IOException {
        Autoencoder m = random(Model.encoder(4).dense(3).relu().gaussianLatent(2).decoder().dense(4).bernoulli(), 5);
        Map<String, Onnx.ModelProto> g = exported(m, dir);
        for (Onnx.ModelProto p : g.values()) {
            assertEquals(OnnxExport.IR_VERSION, p.getIrVersion());
            assertEquals(17, p.getOpsetImport(0).getVersion());
            assertEquals("", p.getOpsetImport(0).getDomain());
            for (Onnx.ValueInfoProto v : concat(p.getGraph().getInputList(), p.getGraph().getOutputList())) {
                Onnx.TensorShapeProto s = v.getType().getTensorType().getShape();
                assertEquals("batch", s.getDim(0).getDimParam(), v.getName());
                assertTrue(s.getDim(1).getDimValue() > 0, v.getName());
            }
        }
        assertEquals(List.of("mu", "logvar"), g.get("encoder.onnx").getGraph().getOutputList().stream().map(Onnx.ValueInfoProto::getName).toList());
        // Batch sizes other than the one the test ran: one row, and many.
        for (int n : new int[] {1, 33}) {
            float[][] x = rows(n, 4, 0, 1);
            close(m.reconstruct(x), OnnxReference.run(g.get("reconstruct.onnx"), Map.of("x", tensor(x, 4))).get("reconstruction"), n + " rows");
        }
    }

    static <E> List<E> concat(List<E> a, List<E> b) {
        List<E> l = new ArrayList<>(a);
        l.addAll(b);
        return l;
    }

    static Onnx.TensorProto tensorProto(Onnx.GraphProto g, String name) {
        return g.getInitializerList().stream().filter(t -> t.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no initializer " + name));
    }

    static float[] initializer(Onnx.GraphProto g, String name) {
        Onnx.TensorProto t = tensorProto(g, name);
        ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return v;
    }

    static void assertArrayEqualsFloat(float[] expected, float[] actual) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, actual);
    }
}
