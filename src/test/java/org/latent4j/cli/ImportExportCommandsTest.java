package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.Models;
import org.latent4j.onnx.proto.Onnx;

/** {@code import} writes the model Models.load(weights, spec) gives; {@code export} writes three ONNX files; bad input is one line. */
class ImportExportCommandsTest {
    static Path resource(Path dir, String name) throws IOException {
        try (InputStream in = ImportExportCommandsTest.class.getResourceAsStream("/pytorch/" + name)) {
            return Files.write(dir.resolve(name), in.readAllBytes());
        }
    }

    @Test
    void importThenExport(@TempDir Path dir) throws IOException {
        Path weights = resource(dir, "dense-vae.safetensors"), spec = resource(dir, "dense-vae.json");
        Path out = dir.resolve("models/imported.safetensors");
        MainTest.Run r = MainTest.run("import", "--weights", weights.toString(), "--spec", spec.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("wrote " + out + ": 16 tensors"), r.out());
        Autoencoder direct = Models.load(weights, ModelSpec.fromJson(Files.readString(spec)));
        Autoencoder written = (Autoencoder) Models.load(out);
        assertArrayEquals(direct.parameters(), written.parameters());

        Path onnx = dir.resolve("onnx");
        MainTest.Run e = MainTest.run("export", "--model", out.toString(), "--onnx", onnx.toString());
        assertEquals(0, e.code(), e.err());
        for (String f : new String[] {"encoder.onnx", "decoder.onnx", "reconstruct.onnx"}) {
            assertTrue(e.out().contains("wrote " + onnx.resolve(f)), e.out());
            Onnx.ModelProto m = Onnx.ModelProto.parseFrom(Files.readAllBytes(onnx.resolve(f)));
            assertEquals(17, m.getOpsetImport(0).getVersion());
        }
    }

    @Test
    void badInputIsOneLine(@TempDir Path dir) throws IOException {
        Path weights = resource(dir, "dense-vae.safetensors");
        Path noWidth = Files.writeString(dir.resolve("s.json"), Files.readString(resource(dir, "dense-vae.json")).replaceAll("\"input_dim\":\\s*12", "\"input_dim\": 0"));
        MainTest.Run r = MainTest.run("import", "--weights", weights.toString(), "--spec", noWidth.toString(), "--out", dir.resolve("m").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("give the input width (\"input_dim\")"), r.err());
        // The conv AE's spec with the dense VAE's weights: the first tensor that differs is named with both shapes.
        MainTest.Run wrong = MainTest.run("import", "--weights", weights.toString(), "--spec", resource(dir, "conv-ae.json").toString(), "--out",
                dir.resolve("m").toString());
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("tensor encoder.0.weight has shape [16, 12] but the spec needs [4, 1, 3, 3]"), wrong.err());
        assertEquals(1, wrong.err().strip().lines().filter(l -> l.startsWith("latent4j:")).count(), wrong.err());
        MainTest.Run missing = MainTest.run("export", "--model", dir.resolve("none.safetensors").toString(), "--onnx", dir.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("none.safetensors: no such file"), missing.err());
    }
}
