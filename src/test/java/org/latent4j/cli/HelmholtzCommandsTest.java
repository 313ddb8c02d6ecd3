package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Csv;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Json;
import org.latent4j.dsl.Model;
import org.latent4j.model.HelmholtzMachine;
import org.latent4j.model.Models;

/** train --spec helmholtz.json, the use commands on its model file, and train --pretrain rbm. */
class HelmholtzCommandsTest {
    @Test
    void trainsAHelmholtzMachineFromASpecFileAndTheUseCommandsTakeIt(@TempDir Path dir) throws Exception {
        Path spec = dir.resolve("helmholtz.json");
        Files.writeString(spec, Model.helmholtz(784).layers(32, 16).toJson());
        Path out = dir.resolve("run");
        MainTest.Run r = MainTest.run("train", "--spec", spec.toString(), "--epochs", "2", "--procedure", "rws:3", "--eval-samples", "5",
                "--out", out.toString(), "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Helmholtz machine 784-32-16"), r.out());
        assertTrue(r.out().contains("epoch 2: train bound"), r.out());
        Map<?, ?> metrics = (Map<?, ?>) Json.parse(Files.readString(out.resolve("metrics.json")));
        List<?> h = (List<?>) metrics.get("history");
        assertEquals(2, h.size());
        double nll = (Double) metrics.get("test_neg_log_likelihood"), nelbo = (Double) metrics.get("test_neg_elbo");
        assertTrue(nll > 0 && nll < nelbo && nll < 543, "-log p(x) " + nll + " below -ELBO " + nelbo + " and 784 ln 2");
        assertTrue(Files.size(out.resolve("samples.png")) > 100);
        Path model = out.resolve("model.safetensors");
        HelmholtzMachine m = (HelmholtzMachine) Models.load(model);

        Dataset test = FashionMnist.bundledTest().head(4);
        float[][] rows = new float[4][];
        for (int i = 0; i < 4; i++) {
            rows[i] = test.row(i);
        }
        Path data = dir.resolve("x.csv");
        Csv.write(data, rows);
        r = MainTest.run("encode", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("z.csv").toString());
        assertEquals(0, r.code(), r.err());
        Dataset z = Csv.read(dir.resolve("z.csv"));
        assertEquals(16, z.features());
        assertArrayEquals(m.encode(rows)[2], z.row(2), 1e-6f, "encode gives the top layer's probabilities");
        r = MainTest.run("reconstruct", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("r.csv").toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(m.reconstruct(rows)[1], Csv.read(dir.resolve("r.csv")).row(1), 1e-6f);
        r = MainTest.run("sample", "--model", model.toString(), "-n", "5", "--seed", "3", "--out", dir.resolve("s.csv").toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(m.sample(5, 3)[4], Csv.read(dir.resolve("s.csv")).row(4), 1e-6f, "sample gives ancestral dreams");
        r = MainTest.run("score", "--model", model.toString(), "--data", data.toString(), "--out", dir.resolve("sc.csv").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals((float) m.score(rows)[3], Csv.read(dir.resolve("sc.csv")).row(3)[0], 1e-3f, "score is the -log p(x) estimate");
        // eval: the K-sample -log p(x) and the -ELBO of the rows binarized by the trainer's validation stream, not a squared error.
        r = MainTest.run("eval", "--model", model.toString(), "--data", data.toString(), "--eval-samples", "50", "--seed", "7");
        assertEquals(0, r.code(), r.err());
        Map<?, ?> ev = (Map<?, ?>) Json.parse(r.out().strip());
        Dataset csv = Csv.read(data);
        HelmholtzMachine.Estimate est = m.logLikelihood(org.latent4j.train.HelmholtzTrainer.binarized(csv, 7), 4, 50,
                7 + 0x5EED, org.latent4j.kernel.Parallelism.serial());
        assertEquals("helmholtz", ev.get("kind"));
        assertEquals(50, ((Number) ev.get("samples")).intValue());
        assertEquals(-est.meanLogLikelihood(), (Double) ev.get("neg_log_likelihood"), 1e-3, r.out());
        assertEquals(-est.meanBound(), (Double) ev.get("neg_elbo"), 1e-3, r.out());
        assertTrue((Double) ev.get("neg_log_likelihood") < (Double) ev.get("neg_elbo"), r.out());
        assertTrue(!ev.containsKey("squared_error"), r.out());
        r = MainTest.run("info", "--model", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("recognition.0"), r.out());

        CliErrorsTest.oneLine(MainTest.run("train", "--spec", spec.toString(), "--procedure", "rws:x"), "--procedure rws:x", "rws:K");
        CliErrorsTest.oneLine(MainTest.run("train", "--spec", spec.toString(), "--layers", "3"), "is a Helmholtz machine");
    }

    @Test
    void trainPretrainRbmPretrainsAStackOfRbmsThenFineTunes(@TempDir Path dir) throws Exception {
        Path spec = dir.resolve("deep.json");
        Files.writeString(spec, Model.encoder().dense(64).sigmoid().dense(16).sigmoid().latent(4)
                .decoder().dense(16).sigmoid().dense(64).sigmoid().dense(784).bernoulli().toJson());
        Path out = dir.resolve("run");
        MainTest.Run r = MainTest.run("train", "--epochs", "1", "--spec", spec.toString(), "--out", out.toString(),
                "--pretrain", "rbm", "--pretrain-epochs", "1", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("RBM 1 epoch 1: reconstruction error"), r.out());
        assertTrue(r.out().contains("pretrained Gaussian-hidden RBM 16 -> 4 into latent and decoder.0"), r.out());
        assertTrue(r.out().contains("fine-tuning the whole model end to end"), r.out());
        Map<?, ?> metrics = (Map<?, ?>) Json.parse(Files.readString(out.resolve("metrics.json")));
        assertEquals("rbm", metrics.get("pretrain"));
        assertEquals(3, ((List<?>) metrics.get("pretraining")).size());
        CliErrorsTest.oneLine(MainTest.run("train", "--spec", spec.toString(), "--pretrain", "rbm"), "--pretrain-epochs");
        CliErrorsTest.oneLine(MainTest.run("train", "--spec", spec.toString(), "--pretrain", "boltzmann", "--pretrain-epochs", "1"),
                "--pretrain boltzmann", "autoencoder or rbm");
    }

    /**
     * train --spec helmholtz.json saves checkpoint.safetensors each epoch; a run of 2 epochs
     * resumed with --resume to 3 (in the checkpoint's folder, with or without --spec) writes
     * bitwise the model and the history of a run of 3; other settings or specs are refused in one line.
     */
    @Test
    void aHelmholtzRunResumedFromItsCheckpointEqualsAnUnbrokenOne(@TempDir Path dir) throws Exception {
        Path spec = dir.resolve("helmholtz.json");
        Files.writeString(spec, Model.helmholtz(16).layers(8, 4).toJson());
        float[] u = new float[80 * 16];
        org.latent4j.kernel.Philox.fillUniform(u, 0, u.length, 5, 1, 0);
        float[][] rows = new float[80][];
        for (int i = 0; i < 80; i++) {
            rows[i] = java.util.Arrays.copyOfRange(u, i * 16, i * 16 + 16);
        }
        Path data = dir.resolve("x.csv");
        Csv.write(data, rows);
        // The run's options; the second list of a call replaces some of them (picocli takes an option once).
        List<String> common = List.of("--data", data.toString(), "--batch", "16", "--procedure", "rws:2:sleep", "--eval-samples", "5",
                "--seed", "3", "--threads", "2");
        java.util.function.BiFunction<List<String>, List<String>, MainTest.Run> train = (a, b) -> {
            Map<String, String> opts = new java.util.LinkedHashMap<>();
            for (List<String> l : List.of(common, a, b)) {
                for (int i = 0; i < l.size(); i += 2) {
                    opts.put(l.get(i), l.get(i + 1));
                }
            }
            List<String> args = new java.util.ArrayList<>(List.of("train"));
            opts.forEach((k, v) -> {
                args.add(k);
                args.add(v);
            });
            return MainTest.run(args.toArray(String[]::new));
        };
        Path whole = dir.resolve("whole"), cut = dir.resolve("cut");
        MainTest.Run r = train.apply(List.of("--spec", spec.toString(), "--epochs", "3"), List.of("--out", whole.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("checkpoint.safetensors"), r.out());
        r = train.apply(List.of("--spec", spec.toString(), "--epochs", "2"), List.of("--out", cut.toString()));
        assertEquals(0, r.code(), r.err());
        Path ck = cut.resolve("checkpoint.safetensors");
        assertTrue(Models.load(ck) instanceof HelmholtzMachine, "a checkpoint loads as the model");
        CliErrorsTest.oneLine(train.apply(List.of("--resume", ck.toString(), "--epochs", "3"), List.of("--lr", "0.01")), ck.toString(),
                "recipe");
        CliErrorsTest.oneLine(train.apply(List.of("--resume", ck.toString(), "--epochs", "3"), List.of("--procedure", "wake-sleep")),
                ck.toString(), "same procedure");
        Path other = dir.resolve("other.json");
        Files.writeString(other, Model.helmholtz(16).layers(8, 3).toJson());
        CliErrorsTest.oneLine(train.apply(List.of("--resume", ck.toString(), "--epochs", "3"), List.of("--spec", other.toString())),
                "--spec " + other, "holds");
        r = train.apply(List.of("--resume", ck.toString(), "--epochs", "3"), List.of());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resuming the run saved in " + ck + " (epoch 3, row 0)"), r.out());
        assertTrue(r.out().contains("epoch 3: train bound") && !r.out().contains("epoch 2: train bound"), r.out());
        HelmholtzMachine a = HelmholtzMachine.load(whole.resolve("model.safetensors")), b = HelmholtzMachine.load(cut.resolve("model.safetensors"));
        assertArrayEquals(a.generative(), b.generative(), "generative arena");
        assertArrayEquals(a.recognition(), b.recognition(), "recognition arena");
        List<?> ha = (List<?>) ((Map<?, ?>) Json.parse(Files.readString(whole.resolve("metrics.json")))).get("history");
        List<?> hb = (List<?>) ((Map<?, ?>) Json.parse(Files.readString(cut.resolve("metrics.json")))).get("history");
        assertEquals(3, hb.size());
        for (int e = 0; e < 3; e++) {
            for (String k : List.of("epoch", "train_bound", "test_elbo", "test_log_likelihood")) {
                assertEquals(((Map<?, ?>) ha.get(e)).get(k), ((Map<?, ?>) hb.get(e)).get(k), "epoch " + (e + 1) + " " + k);
            }
        }
        // With the same --spec given, and on one thread, resuming the 3-epoch checkpoint to 4 epochs works too.
        r = train.apply(List.of("--resume", ck.toString(), "--epochs", "4", "--spec", spec.toString()), List.of("--threads", "1"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("epoch 4: train bound"), r.out());
    }
}
