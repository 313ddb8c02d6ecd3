package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.ParamSpec;
import org.latent4j.io.SafeTensors;

/**
 * PyTorch in: state_dicts that PyTorch trained and saved (benchmarks/pytorch_roundtrip.py
 * --fixtures wrote them into src/test/resources/pytorch/, with PyTorch's own outputs on a few rows)
 * load as latent4j models that give PyTorch's mu, logvar, code and reconstruction to 1e-5: a dense
 * VAE with batch normalization stored in F16, BF16, F64 and F32 beside batch norm's I64 step
 * counter, and a convolutional autoencoder (Conv2d, BatchNorm2d, ConvTranspose2d). The conversions
 * are checked bit for bit on chosen values, and every kind of mismatch gives one line naming the
 * tensor.
 */
class PyTorchImportTest {
    static Path resource(Path dir, String name) throws IOException {
        try (InputStream in = PyTorchImportTest.class.getResourceAsStream("/pytorch/" + name)) {
            assertTrue(in != null, "test resource pytorch/" + name);
            Path f = dir.resolve(name);
            Files.write(f, in.readAllBytes());
            return f;
        }
    }

    static float[][] csv(Path dir, String name) throws IOException {
        List<float[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(resource(dir, name))) {
            if (!line.isBlank()) {
                String[] cells = line.split(",");
                float[] r = new float[cells.length];
                for (int j = 0; j < r.length; j++) {
                    r[j] = (float) Double.parseDouble(cells[j]);
                }
                rows.add(r);
            }
        }
        return rows.toArray(new float[0][]);
    }

    static void close(float[][] pytorch, float[][] ours, String what) {
        assertEquals(pytorch.length, ours.length, what);
        for (int r = 0; r < pytorch.length; r++) {
            assertEquals(pytorch[r].length, ours[r].length, what);
            for (int j = 0; j < pytorch[r].length; j++) {
                double err = Math.abs(pytorch[r][j] - ours[r][j]) / Math.max(1, Math.abs(pytorch[r][j]));
                assertTrue(err <= 1e-5, what + " row " + r + " value " + j + ": PyTorch " + pytorch[r][j] + ", latent4j " + ours[r][j]);
            }
        }
    }

    static ModelSpec spec(Path dir, String name) throws IOException {
        return ModelSpec.fromJson(Files.readString(resource(dir, name)));
    }

    @Test
    void aDenseVaeSavedByPyTorchInFourDtypesGivesPyTorchsOutputs(@TempDir Path dir) throws IOException {
        Path weights = resource(dir, "dense-vae.safetensors");
        // The fixture really holds every dtype the importer converts, and the step counter it ignores.
        SafeTensors.Converted c = SafeTensors.readConverted(weights);
        assertEquals(Set.of("F16", "BF16", "F32", "F64"), new TreeSet<>(c.dtypes().values()));
        assertEquals("I64", c.others().get("encoder.2.num_batches_tracked").dtype());
        Autoencoder m = Models.load(weights, spec(dir, "dense-vae.json"));
        float[][] x = csv(dir, "dense-vae-rows.csv");
        close(csv(dir, "dense-vae-mu.csv"), m.encode(x), "mu");
        close(csv(dir, "dense-vae-logvar.csv"), m.encodeLogVariance(x), "logvar");
        close(csv(dir, "dense-vae-reconstruction.csv"), m.reconstruct(x), "reconstruction");
        // Saved and loaded as a latent4j file: the same model.
        Path f = dir.resolve("m.safetensors");
        m.save(f);
        close(m.reconstruct(x), Models.load(f).reconstruct(x), "saved and loaded");
    }

    @Test
    void aConvolutionalAutoencoderFromPyTorch(@TempDir Path dir) throws IOException {
        Autoencoder m = Models.load(resource(dir, "conv-ae.safetensors"), spec(dir, "conv-ae.json"));
        float[][] x = csv(dir, "conv-ae-rows.csv");
        close(csv(dir, "conv-ae-code.csv"), m.encode(x), "code");
        close(csv(dir, "conv-ae-reconstruction.csv"), m.reconstruct(x), "reconstruction");
    }

    // ------------------------------------------------------------------ files made here

    record Raw(String name, String dtype, int[] shape, byte[] data) {}

    static Path file(Path dir, String name, List<Raw> tensors) throws IOException {
        StringBuilder h = new StringBuilder("{");
        long off = 0;
        for (Raw t : tensors) {
            h.append(h.length() > 1 ? "," : "").append('"').append(t.name()).append("\":{\"dtype\":\"").append(t.dtype()).append("\",\"shape\":")
                    .append(java.util.Arrays.toString(t.shape()).replace(" ", "")).append(",\"data_offsets\":[").append(off).append(',')
                    .append(off + t.data().length).append("]}");
            off += t.data().length;
        }
        byte[] header = h.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + (int) off).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        for (Raw t : tensors) {
            b.put(t.data());
        }
        Path f = dir.resolve(name);
        Files.write(f, b.array());
        return f;
    }

    static byte[] shorts(int... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int s : v) {
            b.putShort((short) s);
        }
        return b.array();
    }

    static byte[] doubles(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            b.putDouble(d);
        }
        return b.array();
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float d : v) {
            b.putFloat(d);
        }
        return b.array();
    }

    @Test
    void f16Bf16AndF64ConvertBitForBit(@TempDir Path dir) throws IOException {
        // F16: 1, -2, the smallest subnormal 2^-24, the largest finite 65504, -0, +inf; BF16: 1, 3.140625, -1.5e-38 region, NaN.
        Path f = file(dir, "t.safetensors", List.of(
                new Raw("h", "F16", new int[] {6}, shorts(0x3C00, 0xC000, 0x0001, 0x7BFF, 0x8000, 0x7C00)),
                new Raw("b", "BF16", new int[] {2, 2}, shorts(0x3F80, 0x4049, 0x8080, 0x7FC0)),
                new Raw("d", "F64", new int[] {3}, doubles(0.1, -1e-50, 3.4028234663852886e38)),
                new Raw("steps", "I64", new int[] {}, new byte[8])));
        SafeTensors.Converted c = SafeTensors.readConverted(f);
        Map<String, SafeTensors.Entry> t = c.contents().tensors();
        float[] h = t.get("h").data();
        assertEquals(1f, h[0]);
        assertEquals(-2f, h[1]);
        assertEquals(0x1p-24f, h[2]);
        assertEquals(65504f, h[3]);
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(h[4]));
        assertEquals(Float.POSITIVE_INFINITY, h[5]);
        float[] b = t.get("b").data();
        assertEquals(1f, b[0]);
        assertEquals(3.140625f, b[1]);
        assertEquals(Float.intBitsToFloat(0x80800000), b[2]);
        assertTrue(Float.isNaN(b[3]));
        assertEquals(List.of(2, 2), java.util.Arrays.stream(t.get("b").shape()).boxed().toList());
        float[] d = t.get("d").data();
        assertEquals((float) 0.1, d[0]);
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(d[1]));
        assertEquals(Float.MAX_VALUE, d[2]);
        assertEquals(Map.of("h", "F16", "b", "BF16", "d", "F64"), c.dtypes());
        assertEquals("I64", c.others().get("steps").dtype());
        // The plain reader still takes F32 only.
        IOException e = assertThrows(IOException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("F32 only"), e.getMessage());
        // An F64 beyond float32's range, a size that disagrees with the dtype, an unknown dtype.
        IOException big = assertThrows(IOException.class, () -> SafeTensors.readConverted(file(dir, "big.safetensors",
                List.of(new Raw("w", "F64", new int[] {2}, doubles(1, 1e300))))));
        assertEquals(dir.resolve("big.safetensors") + ": tensor w element 1 is 1.0E300, beyond float32's range", big.getMessage());
        IOException size = assertThrows(IOException.class, () -> SafeTensors.readConverted(file(dir, "size.safetensors",
                List.of(new Raw("w", "BF16", new int[] {3}, shorts(1, 2))))));
        assertTrue(size.getMessage().contains("tensor w has shape [3] (3 BF16 values, 6 bytes) but data_offsets span 4 bytes"), size.getMessage());
        IOException unknown = assertThrows(IOException.class, () -> SafeTensors.readConverted(file(dir, "q.safetensors",
                List.of(new Raw("w", "Q4", new int[] {2}, new byte[2])))));
        assertTrue(unknown.getMessage().contains("tensor w has dtype \"Q4\"; not a safetensors dtype"), unknown.getMessage());
    }

    /** A PyTorch-style state_dict of a spec, every tensor F32 with the given values (or as the caller replaces them). */
    static List<Raw> stateDict(ModelSpec spec) {
        List<Raw> out = new ArrayList<>();
        for (ParamSpec p : Graph.build(spec).params().values()) {
            float[] v = new float[p.size()];
            java.util.Arrays.fill(v, p.name().endsWith("running_var") ? 1f : 0.25f);
            out.add(new Raw(p.name(), "F32", p.shape(), floats(v)));
        }
        return out;
    }

    static String fails(Path f, ModelSpec spec) {
        return assertThrows(IOException.class, () -> Models.load(f, spec)).getMessage();
    }

    @Test
    void everyMismatchNamesTheTensor(@TempDir Path dir) throws IOException {
        ModelSpec spec = Model.encoder(4).dense(3).relu().batchNorm().gaussianLatent(2).decoder().dense(4).bernoulli();
        // Right: loads, and an I64 step counter beside the batch norm is ignored.
        List<Raw> good = new ArrayList<>(stateDict(spec));
        good.add(new Raw("encoder.2.num_batches_tracked", "I64", new int[] {}, new byte[8]));
        Autoencoder m = Models.load(file(dir, "good.safetensors", good), spec);
        assertEquals(0.25f, m.parameters()[0]);

        List<Raw> wrongShape = replace(stateDict(spec), new Raw("fc_mu.weight", "F32", new int[] {3, 2}, floats(new float[6])));
        assertEquals(dir.resolve("shape.safetensors") + ": tensor fc_mu.weight has shape [3, 2] but the spec needs [2, 3]",
                fails(file(dir, "shape.safetensors", wrongShape), spec));

        List<Raw> missing = new ArrayList<>(stateDict(spec));
        missing.removeIf(r -> r.name().equals("decoder.0.bias") || r.name().equals("encoder.2.running_mean"));
        missing.add(new Raw("decoder.1.weight", "F32", new int[] {4, 4}, floats(new float[16])));
        String msg = fails(file(dir, "missing.safetensors", missing), spec);
        assertTrue(msg.startsWith(dir.resolve("missing.safetensors") + ": the tensors do not match the spec: missing encoder.2.running_mean [3], "
                + "decoder.0.bias [4]; not in the spec decoder.1.weight [4, 4]"), msg);
        assertTrue(!msg.contains("\n"), "one line");

        List<Raw> intWeight = replace(stateDict(spec), new Raw("encoder.0.weight", "I32", new int[] {3, 4}, new byte[48]));
        assertTrue(fails(file(dir, "int.safetensors", intWeight), spec).endsWith(
                "tensor encoder.0.weight has dtype I32 but a model's tensors are floating-point (F32, F16, BF16 or F64)"));

        List<Raw> strayCounter = new ArrayList<>(stateDict(spec));
        strayCounter.add(new Raw("decoder.0.num_batches_tracked", "I64", new int[] {}, new byte[8]));
        assertTrue(fails(file(dir, "stray.safetensors", strayCounter), spec).contains("not in the spec decoder.0.num_batches_tracked [] I64"));

        List<Raw> nan = replace(stateDict(spec), new Raw("fc_logvar.bias", "F16", new int[] {2}, shorts(0x3C00, 0x7E00)));
        assertEquals(dir.resolve("nan.safetensors") + ": tensor fc_logvar.bias (F16) element 1 is NaN; weights must be finite",
                fails(file(dir, "nan.safetensors", nan), spec));

        List<Raw> negativeVariance = replace(stateDict(spec), new Raw("encoder.2.running_var", "F64", new int[] {3}, doubles(1, -0.5, 1)));
        assertTrue(fails(file(dir, "var.safetensors", negativeVariance), spec).endsWith(
                "tensor encoder.2.running_var (F64) element 1 is -0.5; a running variance must be finite and non-negative"));

        // A truncated file: the reader's own clear error.
        byte[] whole = Files.readAllBytes(dir.resolve("good.safetensors"));
        Path cut = Files.write(dir.resolve("cut.safetensors"), java.util.Arrays.copyOf(whole, whole.length - 10));
        assertTrue(fails(cut, spec).contains("(truncated?)"), fails(cut, spec));
    }

    /** The fuzzer's seed of the importer's path is a valid state_dict of its spec (so fuzzing starts from the successful path). */
    @Test
    void theFuzzSeedLoads() throws IOException {
        Path seed = Path.of("src/test/resources/org/latent4j/fuzz/FileFormatsFuzzTestInputs/modelFile/pytorch-mixed-dtypes.safetensors");
        ModelSpec spec = Model.encoder(3).dense(2).relu().batchNorm().gaussianLatent(1).decoder().dense(3).bernoulli();
        Autoencoder m = Models.load(seed, spec);
        for (float v : m.parameters()) {
            assertEquals(0.5f, v);
        }
    }

    static List<Raw> replace(List<Raw> state, Raw r) {
        Map<String, Raw> m = new LinkedHashMap<>();
        for (Raw s : state) {
            m.put(s.name(), s);
        }
        assertTrue(m.containsKey(r.name()), r.name());
        m.put(r.name(), r);
        return new ArrayList<>(m.values());
    }
}
