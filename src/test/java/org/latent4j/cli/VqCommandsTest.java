package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Csv;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.DiscreteCodes;

/**
 * A VQ-VAE end to end through the command line: train --spec logs the codebook's health and
 * writes its pictures and metrics; encode --indices gives the Java API's indices; eval reports the
 * bits per image; interpolate and sample (from the prior over code indices) run.
 */
class VqCommandsTest {
    @Test
    void trainThenUseAVqVae(@TempDir Path dir) throws Exception {
        ModelSpec spec = Model.encoder(1, 28, 28).conv2d(8, 4, 2, 1).relu().conv2d(16, 4, 2, 1).relu().vectorQuantized(64, 8)
                .decoder().convTranspose2d(8, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli();
        Path specFile = dir.resolve("vq.json");
        Files.writeString(specFile, spec.toJson());
        assertEquals(spec, ModelSpec.fromJson(spec.toJson()), "the JSON reads back to the same spec");
        Path run = dir.resolve("run");
        MainTest.Run t = MainTest.run("train", "--spec", specFile.toString(), "--epochs", "1", "--out", run.toString(), "--threads", "2");
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("VQ-VAE"), t.out());
        assertTrue(t.out().matches("(?s).*codebook: \\d+/64 codes used.*perplexity.*re-seeded.*commitment.*"), t.out());
        for (String f : new String[] {"code_usage.png", "samples.png", "interpolation.png", "metrics.json"}) {
            assertTrue(Files.exists(run.resolve(f)), f);
        }
        String metrics = Files.readString(run.resolve("metrics.json"));
        assertTrue(metrics.contains("\"bits_per_image\":294") && metrics.contains("\"quantizer\":[{\"epoch\":1"), metrics);
        // The run page (view RUN_DIR) shows the codebook's health per epoch: from metrics.json once finished, and
        // while training from quantizer.json (written after every epoch) beside the checkpoint's history.
        Object health = ((java.util.Map<?, ?>) org.latent4j.dsl.Json.parse(metrics)).get("quantizer");
        Object perplexity = ((java.util.Map<?, ?>) ((java.util.List<?>) health).get(0)).get("perplexity");
        assertTrue(Files.exists(run.resolve("quantizer.json")), "quantizer.json is written while training");
        java.util.Map<?, ?> finished = new RunView(run, null, null, null).state();
        assertEquals("finished", finished.get("status"));
        assertEquals(perplexity, ((java.util.Map<?, ?>) ((java.util.List<?>) finished.get("history")).get(0)).get("perplexity"));
        Files.move(run.resolve("metrics.json"), dir.resolve("metrics.json"));   // as the run looks before its end
        java.util.Map<?, ?> training = new RunView(run, null, null, 1).state();
        assertEquals("training", training.get("status"));
        java.util.Map<?, ?> epoch1 = (java.util.Map<?, ?>) ((java.util.List<?>) training.get("history")).get(0);
        assertEquals(((Number) perplexity).doubleValue(), ((Number) epoch1.get("perplexity")).doubleValue(), 1e-9, epoch1.toString());
        assertTrue(epoch1.get("codes_used") instanceof Number && epoch1.get("commitment_loss") instanceof Number, epoch1.toString());
        Files.move(dir.resolve("metrics.json"), run.resolve("metrics.json"));
        Path model = run.resolve("model.safetensors");
        Autoencoder ae = Autoencoder.load(model);
        float[][] rows = new float[5][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = FashionMnist.bundledTest().row(i);
        }
        Path data = dir.resolve("x.csv");
        Csv.write(data, rows);
        MainTest.Run e = MainTest.run("encode", "--model", model.toString(), "--data", data.toString(), "--indices", "--out",
                dir.resolve("idx.csv").toString());
        assertEquals(0, e.code(), e.err());
        Dataset idx = Csv.read(dir.resolve("idx.csv"));
        int[][] expected = DiscreteCodes.of(ae).encodeIndices(rows);
        assertEquals(49, idx.features());
        for (int r = 0; r < 5; r++) {
            for (int p = 0; p < 49; p++) {
                assertEquals(expected[r][p], (int) idx.row(r)[p], "row " + r + " position " + p);
            }
        }
        MainTest.Run ev = MainTest.run("eval", "--model", model.toString(), "--data", data.toString());
        assertEquals(0, ev.code(), ev.err());
        assertTrue(ev.out().contains("\"code_positions\":49,\"codes\":64,\"bits_per_image\":294.0000"), ev.out());
        MainTest.Run in = MainTest.run("interpolate", "--model", model.toString(), "--data", data.toString(), "--from", "0", "--to", "1",
                "--steps", "4", "--out", dir.resolve("i.csv").toString());
        assertEquals(0, in.code(), in.err());
        Dataset strip = Csv.read(dir.resolve("i.csv"));
        assertArrayEquals(ae.reconstruct(new float[][] {rows[0]})[0], strip.row(0), 1e-4f, "the strip starts at the reconstruction");
        MainTest.Run s = MainTest.run("sample", "--model", model.toString(), "-n", "4", "--out", dir.resolve("s.csv").toString());
        assertEquals(0, s.code(), s.err());
        assertEquals(4, Csv.read(dir.resolve("s.csv")).rows());
        MainTest.Run bad = MainTest.run("sample", "--model", model.toString(), "--prior", "pixelcnn", "--out", dir.resolve("t.csv").toString());
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("--prior pixelcnn: expected markov or categorical"), bad.err());
    }
}
