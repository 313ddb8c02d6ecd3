package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Json;
import org.latent4j.model.Autoencoder;

/** Every kind of bad command line: one line naming the problem, exit code 2, no stack trace unless --debug. */
class CliErrorsTest {
    static void oneLine(MainTest.Run r, String... mustContain) {
        assertEquals(2, r.code(), r.err());
        String e = r.err().strip();
        assertEquals(1, e.lines().count(), "one line: " + e);
        assertTrue(e.startsWith("latent4j: "), e);
        for (String s : mustContain) {
            assertTrue(e.contains(s), "'" + s + "' in: " + e);
        }
    }

    @Test
    void badOptionsAndValues() {
        oneLine(MainTest.run("train", "--epochz", "3"), "Unknown option", "'--epochz'", "latent4j train --help");
        oneLine(MainTest.run("train", "--epochs", "three"), "--epochs", "three");
        oneLine(MainTest.run("train", "--epochs", "0"), "--epochs");
        oneLine(MainTest.run("frobnicate"), "frobnicate");
        oneLine(MainTest.run("encode", "--data", "x.csv"), "--model");
        java.util.Set<String> runsBefore = runFolders();
        oneLine(MainTest.run("train", "--lr-schedule", "cosin"), "learning-rate schedule 'cosin'", "unknown schedule");
        oneLine(MainTest.run("train", "--early-stopping", "0"), "patience >= 1");
        oneLine(MainTest.run("train", "--beta", "-1"), "beta");
        assertEquals(runsBefore, runFolders(), "a bad option leaves no run folder behind");
    }

    static java.util.Set<String> runFolders() {
        try (var s = Files.list(Path.of("runs"))) {
            return s.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet());
        } catch (java.io.IOException e) {
            return java.util.Set.of();
        }
    }

    @Test
    void missingAndDamagedFiles(@TempDir Path dir) throws Exception {
        oneLine(MainTest.run("train", "--data", dir.resolve("none").toString(), "--out", dir.resolve("o").toString()), "none");
        oneLine(MainTest.run("train", "--resume", dir.resolve("gone.safetensors").toString()), "gone.safetensors", "no such file");
        Path junk = dir.resolve("junk.safetensors");
        Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        oneLine(MainTest.run("info", "--model", junk.toString()), junk.toString(), "header length");
        Path csv = dir.resolve("x.csv");
        Files.writeString(csv, "1,2\n3,oops\n");
        Path model = dir.resolve("m.safetensors");
        Files.writeString(dir.resolve("m.txt"), "");
        oneLine(MainTest.run("pca", "--data", csv.toString(), "-q", "1"), csv.toString(), "line 2, column 2", "'oops'");
        Path nan = dir.resolve("nan.csv");
        Files.writeString(nan, "1,2\n3,NaN\n5,6\n");
        oneLine(MainTest.run("pca", "--data", nan.toString(), "-q", "1"), "line 2, column 2", "not a finite number");
        assertTrue(!Files.exists(model));
    }

    @Test
    void anOutputFolderThatCannotBeWritten(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("plain-file");
        Files.writeString(file, "I am a file, not a folder");
        oneLine(MainTest.run("train", "--epochs", "1", "--out", file.resolve("run").toString()), "output folder", "cannot be written");
        Path csv = dir.resolve("x.csv");
        Files.writeString(csv, "1,2,3\n4,5,6\n7,8,10\n");
        MainTest.Run ok = MainTest.run("pca", "--data", csv.toString(), "-q", "1", "--out", dir.resolve("p").toString());
        assertEquals(0, ok.code(), ok.err());
        oneLine(MainTest.run("encode", "--model", dir.resolve("p/model.safetensors").toString(), "--data", csv.toString(),
                "--out", file.resolve("z.csv").toString()), "cannot be written");
        assertEquals("I am a file, not a folder", Files.readString(file), "nothing lost");
    }

    @Test
    void badRowsStepsLabelsAndScalings(@TempDir Path dir) throws Exception {
        org.latent4j.dsl.ModelSpec spec = org.latent4j.dsl.Model.encoder(4).dense(3).relu().latent(2).decoder().dense(4).gaussian();
        Path model = dir.resolve("m.safetensors");
        Autoencoder.of(spec, org.latent4j.train.Trainer.initialParams(org.latent4j.graph.Graph.build(spec).fuse(), 1)).save(model);
        Path data = Files.writeString(dir.resolve("x.csv"), "1,2,3,4\n5,6,7,8\n9,10,11,12\n");
        String m = model.toString(), d = data.toString(), out = dir.resolve("o.csv").toString();
        oneLine(MainTest.run("interpolate", "--model", m, "--data", d, "--from", "3", "--to", "0", "--out", out),
                "--from 3: ", "x.csv has 3 rows (0 to 2)");
        oneLine(MainTest.run("interpolate", "--model", m, "--data", d, "--from", "0,1", "--to", "2,-1", "--out", out), "--to -1: ");
        oneLine(MainTest.run("interpolate", "--model", m, "--data", d, "--from", "0,1", "--to", "2", "--out", out),
                "--from gives 2 rows but --to gives 1");
        oneLine(MainTest.run("interpolate", "--model", m, "--data", d, "--from", "0", "--to", "2", "--steps", "1", "--out", out),
                "--steps must be at least 2");
        oneLine(MainTest.run("interpolate", "--model", m, "--data", d, "--from", "first", "--to", "2", "--out", out), "--from", "first");
        oneLine(MainTest.run("interpolate", "--model", m, "--data", d, "--to", "2", "--out", out), "--from");
        oneLine(MainTest.run("encode", "--model", m, "--data", d, "--out", out, "--labels", d), "--labels", "give --scatter");
        Path labels = Files.writeString(dir.resolve("labels.csv"), "1\n2\n");
        oneLine(MainTest.run("encode", "--model", m, "--data", d, "--out", out, "--scatter", dir.resolve("s.png").toString(),
                "--labels", labels.toString()), "labels.csv has 2 labels but the data has 3 rows");
        Files.writeString(labels, "1\n2.5\n3\n");
        oneLine(MainTest.run("encode", "--model", m, "--data", d, "--out", out, "--scatter", dir.resolve("s.png").toString(),
                "--labels", labels.toString()), "line 2 holds 2.5, not a whole number label");
        oneLine(MainTest.run("denoise", "--model", m, "--data", dir.resolve("none.csv").toString(), "--out", out), "none.csv");
        String det = dir.resolve("det.safetensors").toString();
        oneLine(MainTest.run("calibrate", "--model", m, "--normal", d, "--scale", "zscore", "--out", det), "--scale zscore");
        oneLine(MainTest.run("calibrate", "--model", m, "--normal", d, "--scale-from", d, "--out", det), "--scale-from", "--scale minmax");
        assertTrue(!Files.exists(Path.of(out)) && !Files.exists(Path.of(det)), "no output after an error");
    }

    @Test
    void debugAddsTheStackTrace(@TempDir Path dir) {
        MainTest.Run r = MainTest.run("--debug", "info", "--model", dir.resolve("nope").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("\tat org.latent4j"), r.err());
    }

    @Test
    void trainResumesFromItsCheckpoint(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        MainTest.Run r = MainTest.run("train", "--epochs", "1", "--latent", "4", "--out", a.toString(), "--threads", "2");
        assertEquals(0, r.code(), r.err());
        Path ck = a.resolve("checkpoint.safetensors");
        assertTrue(Files.exists(ck), r.out());
        assertTrue(Autoencoder.load(ck).latentDim() == 4, "a checkpoint loads as a model");
        r = MainTest.run("train", "--epochs", "2", "--latent", "4", "--out", b.toString(), "--resume", ck.toString(), "--threads", "1");
        assertEquals(0, r.code(), r.err());
        var metrics = (java.util.Map<?, ?>) Json.parse(Files.readString(b.resolve("metrics.json")));
        assertEquals(2, ((java.util.List<?>) metrics.get("history")).size(), "epoch 1 from the checkpoint, epoch 2 run now");
        r = MainTest.run("train", "--epochs", "2", "--latent", "4", "--seed", "5", "--out", b.toString(), "--resume", ck.toString());
        oneLine(r, "another training recipe (seed: 42 there, 5 here)");
        Path c = dir.resolve("c");
        r = MainTest.run("train", "--epochs", "3", "--latent", "4", "--out", c.toString(), "--lr-schedule", "warmup:10,cosine",
                "--early-stopping", "1");
        assertEquals(0, r.code(), r.err());
        var m = (java.util.Map<?, ?>) Json.parse(Files.readString(c.resolve("metrics.json")));
        assertEquals("warmup:10,cosine", m.get("learning_rate_schedule"));
        assertTrue(((Double) m.get("best_epoch")) >= 1, m.toString());
        assertTrue(r.out().contains("early stopping: best test -ELBO at epoch"), r.out());
        assertTrue(FashionMnist.bundledTrain().rows() > 0);
    }
}
