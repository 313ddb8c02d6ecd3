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
        // a discrete latent has no KL term: the lines say reconstruction and codebook/commitment, and where the PixelCNN comes from
        assertTrue(t.out().matches("(?s).*epoch 1/1: train reconstruction [0-9.]+ \\+ codebook/commitment [0-9.]+, test reconstruction [0-9.]+.*"), t.out());
        assertTrue(!t.out().contains("KL") && !t.out().contains("ELBO"), t.out());
        assertTrue(t.out().contains("Markov prior") && t.out().contains("./latent4j fit-prior --model"), t.out());
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
        assertEquals("vq-vae", ae.kind());
        MainTest.Run info = MainTest.run("info", "--model", model.toString());
        assertTrue(info.out().contains(": VQ-VAE, 784 inputs"), info.out());
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
        assertTrue(bad.err().contains("--prior pixelcnn: " + model + " holds no PixelCNN prior (train one with fit-prior"), bad.err());
    }

    /**
     * fit-prior saves a PixelCNN prior in the model file; sample draws from it by default, equal to
     * the Java API's draws; eval reports its bits; decode --indices equals decodeIndices, and a bad
     * index or count gets one line naming the line and column.
     */
    @Test
    void fitPriorThenSampleEvalAndDecode(@TempDir Path dir) throws Exception {
        ModelSpec spec = Model.encoder(1, 28, 28).conv2d(8, 4, 2, 1).relu().conv2d(16, 4, 2, 1).relu().vectorQuantized(32, 8)
                .decoder().convTranspose2d(8, 4, 2, 1).relu().convTranspose2d(1, 4, 2, 1).bernoulli();
        Autoencoder ae = Autoencoder.of(spec, org.latent4j.train.Trainer.initialParams(org.latent4j.graph.Graph.build(spec), 3));
        Path model = dir.resolve("vq.safetensors"), withPrior = dir.resolve("vq-prior.safetensors");
        ae.save(model, java.util.Map.of());
        float[][] rows = new float[6][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = FashionMnist.bundledTest().row(i);
        }
        Path data = dir.resolve("x.csv");
        Csv.write(data, rows);
        MainTest.Run f = MainTest.run("fit-prior", "--model", model.toString(), "--data", data.toString(), "--test", data.toString(),
                "--epochs", "2", "--batch", "4", "--channels", "8", "--embedding", "4", "--blocks", "1", "--out", withPrior.toString());
        assertEquals(0, f.code(), f.err());
        assertTrue(f.out().matches("(?s).*prior epoch 2/2: .* bits per grid.*test bits per image \\(6 rows.*categorical .*, markov .*,"
                + " pixelcnn .*wrote .*"), f.out());
        org.latent4j.io.SafeTensors.Contents c = org.latent4j.io.SafeTensors.read(withPrior);
        org.latent4j.model.PixelCnnPrior prior = org.latent4j.model.PixelCnnPrior.from(c, withPrior);
        assertEquals(new org.latent4j.dsl.PixelCnnSpec(32, 7, 7, 4, 8, 7, 1), prior.spec());
        assertTrue(c.tensors().containsKey("prior.conv_in.weight") && c.tensors().containsKey("prior.blocks.0.conv2.bias"));
        assertArrayEquals(new int[] {8, 4, 7, 7}, c.tensors().get("prior.conv_in.weight").shape());
        assertEquals(null, org.latent4j.model.PixelCnnPrior.from(org.latent4j.io.SafeTensors.read(model), model));
        Autoencoder back = Autoencoder.load(withPrior);   // the model reads its own tensors beside the prior's
        assertArrayEquals(ae.parameters(), back.parameters());
        DiscreteCodes dc = DiscreteCodes.of(back);

        MainTest.Run s = MainTest.run("sample", "--model", withPrior.toString(), "-n", "5", "--seed", "9", "--out", dir.resolve("s.csv").toString());
        assertEquals(0, s.code(), s.err());
        float[][] want = dc.decodeIndices(prior.sample(5, 9, org.latent4j.kernel.Parallelism.serial()));
        Dataset got = Csv.read(dir.resolve("s.csv"));
        for (int r = 0; r < 5; r++) {
            assertArrayEquals(want[r], got.row(r), 1e-6f, "sample " + r);
        }
        MainTest.Run ev = MainTest.run("eval", "--model", withPrior.toString(), "--data", data.toString());
        assertEquals(0, ev.code(), ev.err());
        assertTrue(ev.out().contains(String.format(java.util.Locale.ROOT, "\"pixelcnn_bits_per_image\":%.4f",
                prior.meanBits(dc.encodeIndices(rows), org.latent4j.kernel.Parallelism.serial()))), ev.out());

        int[][] idx = dc.encodeIndices(rows);
        idx[2][5] = 31;
        StringBuilder sb = new StringBuilder();
        for (int[] row : idx) {
            sb.append(java.util.Arrays.stream(row).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining(","))).append('\n');
        }
        Path idxFile = dir.resolve("idx.csv");
        Files.writeString(idxFile, sb);
        MainTest.Run d = MainTest.run("decode", "--model", withPrior.toString(), "--indices", idxFile.toString(), "--out",
                dir.resolve("d.csv").toString());
        assertEquals(0, d.code(), d.err());
        float[][] decoded = dc.decodeIndices(idx);
        Dataset dd = Csv.read(dir.resolve("d.csv"));
        assertEquals(6, dd.rows());
        for (int r = 0; r < 6; r++) {
            assertArrayEquals(decoded[r], dd.row(r), 0f, "decoded row " + r);
        }
        assertTrue(Files.exists(dir.resolve("d.png")));
        Files.writeString(idxFile, sb.toString().replaceFirst("\n([0-9]+),", "\n$1,32,").replaceFirst(",32,[0-9]+,", ",32,"));
        MainTest.Run big = MainTest.run("decode", "--model", withPrior.toString(), "--indices", idxFile.toString(), "--out",
                dir.resolve("e.csv").toString());
        assertNotEquals(0, big.code());
        assertTrue(big.err().contains(idxFile + ": line 2, column 2: '32' is not a code index (a whole number in 0..31)"), big.err());
        Files.writeString(idxFile, "1,2,3\n");
        MainTest.Run few = MainTest.run("decode", "--model", withPrior.toString(), "--indices", idxFile.toString(), "--out",
                dir.resolve("e.csv").toString());
        assertNotEquals(0, few.code());
        assertTrue(few.err().contains(idxFile + ": line 1 has 3 indices but the model's code grid has 49 positions"), few.err());
        assertEquals(1, few.err().strip().lines().count(), few.err());
    }
}
