package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;

/** Hostile and damaged model files: each gets an error naming the file and the fault, and no big allocation. */
class BadModelFilesTest {
    static final ModelSpec SPEC = Model.encoder(4).dense(3).relu().latent(2).decoder().dense(4).gaussian();

    /** A safetensors file from a header JSON and a data section. */
    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array();
    }

    static String spec(String json) {
        return "\"__metadata__\":{\"latent4j.spec\":" + quote(json) + "}";
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Loads the bytes as a model file; returns the message of the IOException, checking what it allocated. */
    static String fails(Path dir, byte[] bytes) throws IOException {
        Path f = Files.createTempFile(dir, "bad", ".safetensors");
        Files.write(f, bytes);
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        String m = assertThrows(IOException.class, () -> Models.load(f)).getMessage();
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 16L << 20, "a bad file of " + bytes.length + " bytes made the loader allocate " + allocated + " bytes: " + m);
        assertTrue(m.contains(f.toString()), "the message names the file: " + m);
        return m;
    }

    static void contains(String m, String... parts) {
        for (String p : parts) {
            assertTrue(m.contains(p), "'" + p + "' in: " + m);
        }
    }

    @Test
    void headerAndOffsetFaults(@TempDir Path dir) throws IOException {
        contains(fails(dir, new byte[5]), "shorter than the 8-byte header length");
        byte[] b = file("{}", 0);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        contains(fails(dir, b), "header length 1099511627776", "impossible");
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -8);
        contains(fails(dir, b), "header length");
        contains(fails(dir, file("{not json", 0)), "header is not valid JSON");
        contains(fails(dir, file("[1,2]", 0)), "header must be a JSON object");
        contains(fails(dir, file("[".repeat(5000) + "]".repeat(5000), 0)), "not valid JSON");
        String t = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16000000000]}}";
        contains(fails(dir, file(t, 16)), "tensor w ends at data offset 16000000000", "only 16 bytes");
        t = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}";
        contains(fails(dir, file(t, 24)), "tensors a and b overlap");
        t = "{\"w\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}";
        contains(fails(dir, file(t, 8)), "tensor w has dtype \"F16\"", "F32 only");
        t = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,4],\"data_offsets\":[0,16]}}";
        contains(fails(dir, file(t, 16)), "tensor w has", "more than latent4j holds in one array");
        t = "{\"w\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[0,16]}}";
        contains(fails(dir, file(t, 16)), "shape [5]", "span 16 bytes");
        t = "{\"w\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}";
        contains(fails(dir, file(t, 16)), "bad dimension -4");
        t = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,0]}}";
        contains(fails(dir, file(t, 16)), "data_offsets [begin, end]");
        contains(fails(dir, file("{\"__metadata__\":{\"k\":5}}", 0)), "__metadata__.k must be a string");
    }

    @Test
    void specFaults(@TempDir Path dir) throws IOException {
        Path good = dir.resolve("good.safetensors");
        Autoencoder.of(SPEC, new float[Graph.build(SPEC).paramCount()]).save(good);
        byte[] g = Files.readAllBytes(good);
        long hlen = ByteBuffer.wrap(g).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(g, 8, (int) hlen, StandardCharsets.UTF_8).strip();
        byte[] data = java.util.Arrays.copyOfRange(g, 8 + (int) hlen, g.length);
        String tensors = header.substring(header.indexOf("\"encoder.0.weight\""));
        tensors = tensors.substring(0, tensors.length() - 1);

        contains(fails(dir, withData("{" + spec("{oops") + "," + tensors + "}", data)), "model spec", "JSON");
        String json = SPEC.toJson();
        contains(fails(dir, withData("{" + spec(json.replace("\"dense\":3", "\"conv\":3")) + "," + tensors + "}", data)),
                "unknown layer", "conv");
        contains(fails(dir, withData("{" + spec(json.replace("\"dense\":3", "\"dense\":5")) + "," + tensors + "}", data)),
                "tensor encoder.0.weight has shape [3, 4] but the spec needs [5, 4]");
        contains(fails(dir, withData("{" + spec(json.replace("\"format\":\"latent4j-model\"", "\"format\":\"keras\"")) + "," + tensors + "}",
                data)), "\"format\" must be");
        // A spec claiming a model of 2^28 x 2^28 weights: refused without allocating it.
        String huge = json.replace("\"input_dim\":4", "\"input_dim\":268435456").replace("\"dense\":3", "\"dense\":268435456");
        contains(fails(dir, withData("{" + spec(huge) + "," + tensors + "}", data)), "model");
        // Plausible but larger than the file: checked tensor by tensor before the arena is allocated.
        String big = json.replace("\"dense\":3", "\"dense\":4000000");
        contains(fails(dir, withData("{" + spec(big) + "," + tensors + "}", data)), "tensor encoder.0.weight has shape");
        contains(fails(dir, withData("{\"__metadata__\":{\"format\":\"pt\"}," + tensors + "}", data)), "is it a latent4j model file");
        String extra = tensors + ",\"evil\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
        contains(fails(dir, withData("{" + spec(json) + "," + extra + "}", data)), "tensor evil is not part of the model spec");
    }

    static byte[] withData(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).put(data).array();
    }
}
