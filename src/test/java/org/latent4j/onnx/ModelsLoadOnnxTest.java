package org.latent4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.model.GraphModel;
import org.latent4j.model.Models;

/**
 * Models.loadOnnx, the engine's door to the onnx artifact: it gives the OnnxModel of the file
 * (the same outputs, bit for bit, as OnnxModel.load), and the reader's own errors pass through
 * unchanged. (Without the onnx artifact on the class path, EmbeddingTest checks its message.)
 */
class ModelsLoadOnnxTest {
    @Test
    void givesTheOnnxModelOfTheFile() throws IOException {
        Path file = OnnxFixturesTest.DIR.resolve("vae_encoder.onnx");
        GraphModel g = Models.loadOnnx(file);
        assertTrue(g instanceof OnnxModel);
        OnnxModel direct = OnnxModel.load(file);
        assertEquals(direct.inputNames(), g.inputNames());
        assertEquals(direct.outputNames(), g.outputNames());
        assertArrayEquals(direct.inputShape(g.inputNames().get(0)), g.inputShape(g.inputNames().get(0)));
        int batch = 3, width = g.inputShape(g.inputNames().get(0))[0];
        float[] x = new float[batch * width];
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble();
        }
        Map<String, float[]> a = g.run(batch, x), b = direct.run(batch, x);
        for (String out : g.outputNames()) {
            assertArrayEquals(b.get(out), a.get(out), out);
        }
    }

    @Test
    void theReadersErrorsPassThrough(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("text.onnx");
        Files.writeString(bad, "not a protobuf at all\n");
        IOException e = assertThrows(IOException.class, () -> Models.loadOnnx(bad));
        assertTrue(e.getMessage().contains("text.onnx"), e.getMessage());
        IOException missing = assertThrows(IOException.class, () -> Models.loadOnnx(dir.resolve("none.onnx")));
        assertTrue(missing.getMessage().contains("none.onnx"), missing.getMessage());
    }
}
