package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.dsl.Json;
import org.latent4j.dsl.Model;

/** train --spec (any model kind) with the VAE options, its pictures and report; conditional models in the use commands. */
class TrainModelKindsCommandTest {
    @Test
    void trainsAConditionalDenoisingVaeFromASpecFile(@TempDir Path dir) throws Exception {
        Path spec = dir.resolve("cvae.json");
        Files.writeString(spec, Model.encoder().conditionedOn(10).saltAndPepper(0.1f).dense(64).relu().gaussianLatent(4)
                .decoder().dense(64).relu().dense(784).bernoulli().toJson());
        Path out = dir.resolve("run");
        MainTest.Run r = MainTest.run("train", "--epochs", "1", "--spec", spec.toString(), "--out", out.toString(),
                "--kl-schedule", "linear:20", "--free-bits", "0.1", "--samples", "2", "--l2", "1e-5", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("conditional denoising VAE on"), r.out());
        assertTrue(r.out().contains("active units"), r.out());
        for (String f : List.of("model.safetensors", "samples.png", "interpolation.png", "latent.png", "reconstructions.png")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        Map<?, ?> metrics = (Map<?, ?>) Json.parse(Files.readString(out.resolve("metrics.json")));
        Map<?, ?> epoch = (Map<?, ?>) ((List<?>) metrics.get("history")).get(0);
        assertEquals(4, ((List<?>) epoch.get("kl_per_dimension")).size());
        assertTrue(epoch.containsKey("active_units"));
        assertEquals("linear:20", metrics.get("kl_schedule"));
        assertEquals(2.0, metrics.get("z_samples"));
        // The use commands take conditions: one class for every row, or a class per row.
        String model = out.resolve("model.safetensors").toString();
        var test = org.latent4j.data.FashionMnist.bundledTest();
        Path rows = dir.resolve("rows.csv"), labels = dir.resolve("labels.csv");
        org.latent4j.data.Csv.write(rows, new float[][] {test.row(0), test.row(1), test.row(2)});
        Files.writeString(labels, test.labels()[0] + "\n" + test.labels()[1] + "\n" + test.labels()[2] + "\n");
        MainTest.Run s = MainTest.run("sample", "--model", model, "--condition", "7", "-n", "8", "--out", dir.resolve("s.csv").toString());
        assertEquals(0, s.code(), s.err());
        assertEquals(8, org.latent4j.data.Csv.read(dir.resolve("s.csv")).rows());
        MainTest.Run e = MainTest.run("encode", "--model", model, "--data", rows.toString(), "--condition-labels", labels.toString(),
                "--variance", "--out", dir.resolve("z.csv").toString());
        assertEquals(0, e.code(), e.err());
        org.latent4j.model.Autoencoder cvae = org.latent4j.model.Autoencoder.load(out.resolve("model.safetensors"));
        float[][] c = new float[3][10];
        for (int i = 0; i < 3; i++) {
            c[i][test.labels()[i]] = 1f;
        }
        float[][] want = cvae.encode(new float[][] {test.row(0), test.row(1), test.row(2)}, c);
        var got = org.latent4j.data.Csv.read(dir.resolve("z.csv"));
        assertEquals(8, got.features());
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 4; j++) {
                assertEquals(want[i][j], got.x()[i * 8 + j], 1e-6 * (1 + Math.abs(want[i][j])), "code " + i + "," + j);
            }
        }
        MainTest.Run rc = MainTest.run("reconstruct", "--model", model, "--data", rows.toString(), "--condition", "2", "--out",
                dir.resolve("r.csv").toString());
        assertEquals(0, rc.code(), rc.err());
        MainTest.Run v = MainTest.run("eval", "--model", model, "--data", rows.toString(), "--condition-labels", labels.toString());
        assertEquals(0, v.code(), v.err());
        assertTrue(v.out().contains("\"neg_elbo\""), v.out());
        CliErrorsTest.oneLine(MainTest.run("sample", "--model", model, "--out", dir.resolve("s2.csv").toString()),
                "conditional model", "--condition CLASS, 0 to 9");
        CliErrorsTest.oneLine(MainTest.run("reconstruct", "--model", model, "--data", rows.toString(), "--out",
                dir.resolve("r2.csv").toString()), "--condition CLASS, --condition-labels FILE or --context FILE", "has no labels");
        CliErrorsTest.oneLine(MainTest.run("reconstruct", "--model", model, "--data", rows.toString(), "--condition", "10", "--out",
                dir.resolve("r2.csv").toString()), "class 10", "0 to 9");
        CliErrorsTest.oneLine(MainTest.run("score", "--model", model, "--data", rows.toString(), "--out",
                dir.resolve("sc.csv").toString()), "anomaly scores do not take conditions");
    }

    @Test
    void trainsAStackedBatchNormalizedAutoencoderWithLayerWisePretraining(@TempDir Path dir) throws Exception {
        Path spec = dir.resolve("stacked.json");
        Files.writeString(spec, Model.encoder().dense(64).batchNorm().relu().dense(16).sigmoid().latent(4)
                .decoder().dense(16).sigmoid().dense(64).relu().dense(784).bernoulli().toJson());
        Path out = dir.resolve("run");
        MainTest.Run r = MainTest.run("train", "--epochs", "1", "--spec", spec.toString(), "--out", out.toString(),
                "--pretrain-epochs", "1", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("stacked autoencoder on"), r.out());
        assertTrue(r.out().contains("pretraining stage 3 of 3: latent with decoder.0-1 (16 -> 4 -> 16)"), r.out());
        assertTrue(r.out().contains("fine-tuning the whole model end to end"), r.out());
        Map<?, ?> metrics = (Map<?, ?>) Json.parse(Files.readString(out.resolve("metrics.json")));
        assertEquals(3, ((List<?>) metrics.get("pretraining")).size());
        assertEquals(1.0, metrics.get("pretrain_epochs"));
        assertTrue(org.latent4j.io.SafeTensors.read(out.resolve("model.safetensors")).tensors().containsKey("encoder.1.running_var"));
        Path rows = dir.resolve("rows.csv");
        org.latent4j.data.Csv.write(rows, new float[][] {org.latent4j.data.FashionMnist.bundledTest().row(0)});
        CliErrorsTest.oneLine(MainTest.run("reconstruct", "--model", out.resolve("model.safetensors").toString(), "--data",
                rows.toString(), "--condition", "1", "--out", dir.resolve("r.csv").toString()), "--condition", "is not a conditional model");
        CliErrorsTest.oneLine(MainTest.run("sample", "--model", out.resolve("model.safetensors").toString(), "--condition", "1",
                "--out", dir.resolve("s.csv").toString()), "is not a conditional model");
    }

    @Test
    void badSpecsAndVaeOptionsAreOneLine(@TempDir Path dir) throws Exception {
        java.util.Set<String> runsBefore = CliErrorsTest.runFolders();
        CliErrorsTest.oneLine(MainTest.run("train", "--kl-schedule", "cosine"), "KL schedule \"cosine\"");
        CliErrorsTest.oneLine(MainTest.run("train", "--free-bits", "-1"), "free bits");
        CliErrorsTest.oneLine(MainTest.run("train", "--samples", "0"), "z samples");
        CliErrorsTest.oneLine(MainTest.run("train", "--free-bits", "1", "--kl-schedule", "capacity:5,100"), "choose one");
        CliErrorsTest.oneLine(MainTest.run("train", "--spec", dir.resolve("none.json").toString()), "none.json", "no such file");
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"format\":\"latent4j-model\",\"version\":1,\"input_dim\":0,\"encoder\":[{\"dropout\":3}],"
                + "\"latent\":{\"kind\":\"gaussian\",\"dim\":2},\"decoder\":[{\"dense\":784}],\"likelihood\":{\"kind\":\"bernoulli\"}}");
        CliErrorsTest.oneLine(MainTest.run("train", "--spec", bad.toString()), "bad.json", "encoder[0]", "probability");
        Path lopsided = dir.resolve("lopsided.json");
        Files.writeString(lopsided, Model.encoder().dense(64).relu().latent(4).decoder().dense(32).relu().dense(784).bernoulli().toJson());
        CliErrorsTest.oneLine(MainTest.run("train", "--spec", lopsided.toString(), "--pretrain-epochs", "1"),
                "needs a decoder of dense widths [64, 784], not [32, 784]");
        CliErrorsTest.oneLine(MainTest.run("train", "--pretrain-epochs", "-1"), "--pretrain-epochs");
        CliErrorsTest.oneLine(MainTest.run("train", "--pretrain-epochs", "1", "--resume", bad.toString()), "--resume", "leave it out");
        assertEquals(runsBefore, CliErrorsTest.runFolders(), "a bad option leaves no run folder behind");
    }
}
