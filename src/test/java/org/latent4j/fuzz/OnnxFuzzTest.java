package org.latent4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.latent4j.onnx.OnnxModel;

/**
 * Coverage-guided fuzzing (Jazzer) of the ONNX reader and compiler, like {@link FileFormatsFuzzTest}
 * for the other readers: any bytes give a model or a clear IOException, never another exception,
 * a hang or a huge allocation; a model that loads runs a batch of one. Seeds (two of the torch.onnx
 * fixtures) and any crash found are in src/test/resources/org/latent4j/fuzz/OnnxFuzzTestInputs/onnxFile/.
 */
class OnnxFuzzTest {
    private static final Path FILE;

    static {
        try {
            Path dir = Files.createTempDirectory("latent4j-onnx-fuzz");
            dir.toFile().deleteOnExit();
            FILE = dir.resolve("model.onnx");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10s")
    void onnxFile(byte[] bytes) throws IOException {
        Files.write(FILE, bytes);
        OnnxModel m;
        try {
            m = OnnxModel.load(FILE);
        } catch (IOException expected) {
            return; // a clear error is the right answer to a bad file
        }
        if (m.floatsPerSample() <= 1 << 20) {
            java.util.Map<String, float[]> in = new java.util.HashMap<>();
            for (String name : m.inputNames()) {
                int n = 1;
                for (int d : m.inputShape(name)) {
                    n *= d;
                }
                in.put(name, new float[n]);
            }
            m.run(1, in);
        }
    }
}
