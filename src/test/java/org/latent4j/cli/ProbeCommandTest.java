package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Json;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;
import org.latent4j.model.LinearModel;

/** probe end to end: a VAE trained here on the bundled slice, labels from IDX files and CSV columns, and the errors. */
class ProbeCommandTest {
    static List<Map<?, ?>> jsonLines(String out) {
        List<Map<?, ?>> l = new ArrayList<>();
        for (String line : out.lines().toList()) {
            if (line.startsWith("{")) {
                l.add((Map<?, ?>) Json.parse(line));
            }
        }
        return l;
    }

    static Map<?, ?> find(List<Map<?, ?>> lines, String representation, String key, String value) {
        return lines.stream().filter(m -> representation.equals(m.get("representation")) && value.equals(m.get(key)))
                .findFirst().orElseThrow(() -> new AssertionError(representation + " " + value + " missing in " + lines));
    }

    static double number(Map<?, ?> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }

    @Test
    void codesOfAVaeTrainedHereBeatChanceByAWideMargin(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        MainTest.Run r = MainTest.run("train", "--epochs", "3", "--threads", "2", "--checkpoint-every", "0", "--out", run.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        r = MainTest.run("probe", "--model", run.resolve("model.safetensors").toString(), "--threads", "2");
        assertEquals(0, r.code(), r.err() + r.out());
        System.out.println(r.out());
        List<Map<?, ?>> lines = jsonLines(r.out());
        Map<?, ?> summary = lines.get(0);
        assertEquals(1000, number(summary, "rows"));
        assertEquals(700, number(summary, "train_rows"));
        assertEquals(300, number(summary, "test_rows"));
        assertEquals(10, number(summary, "classes"));
        double chance = number(summary, "majority_class_accuracy");
        assertTrue(chance < 0.2, "ten classes of about 100 images: " + chance);
        for (String rep : new String[] {"codes", "raw", "pca"}) {
            for (String classifier : new String[] {"logistic_regression", "knn"}) {
                Map<?, ?> m = find(lines, rep, "classifier", classifier);
                double acc = number(m, "test_accuracy"), f1 = number(m, "test_macro_f1");
                assertTrue(acc > 0.6 && acc > 4 * chance, rep + " " + classifier + ": accuracy " + acc + " against chance " + chance);
                assertTrue(f1 > 0.5 && f1 <= 1, rep + " " + classifier + ": macro-F1 " + f1);
            }
            double ari = number(find(lines, rep, "clustering", "kmeans"), "adjusted_rand_index");
            assertTrue(ari > 0.15 && ari < 1, rep + ": k-means ARI " + ari);
        }
        // The command's split and codes: the same 5-NN accuracy from a naive loop over the model's own codes here.
        var model = org.latent4j.model.Models.load(run.resolve("model.safetensors"));
        var split = FashionMnist.bundledTest().split(0.3, 42);
        float[][] zTrain = model.encode(UseCommands.asRows(split.train())), zTest = model.encode(UseCommands.asRows(split.validation()));
        int right = 0;
        for (int q = 0; q < zTest.length; q++) {
            double[] dist = new double[zTrain.length];
            Integer[] order = new Integer[zTrain.length];
            for (int i = 0; i < zTrain.length; i++) {
                order[i] = i;
                for (int j = 0; j < zTrain[i].length; j++) {
                    dist[i] += ((double) zTrain[i][j] - zTest[q][j]) * ((double) zTrain[i][j] - zTest[q][j]);
                }
            }
            java.util.Arrays.sort(order, (a, b) -> dist[a] != dist[b] ? Double.compare(dist[a], dist[b]) : Integer.compare(a, b));
            int[] votes = new int[10];
            for (int n = 0; n < 5; n++) {
                votes[split.train().labels()[order[n]]]++;
            }
            int best = 0;
            for (int c = 1; c < 10; c++) {
                best = votes[c] > votes[best] ? c : best;
            }
            right += best == split.validation().labels()[q] ? 1 : 0;
        }
        assertEquals(right / 300.0, number(find(lines, "codes", "classifier", "knn"), "test_accuracy"), 1e-12,
                "5-NN accuracy on the codes against a naive loop");
        assertEquals(32, number(find(lines, "codes", "classifier", "knn"), "dims"));
        assertEquals(784, number(find(lines, "raw", "classifier", "knn"), "dims"));
        assertEquals(32, number(find(lines, "pca", "classifier", "knn"), "dims"), "PCA codes of the latent's size");
        assertTrue(r.out().contains("representation") && r.out().contains("macro-F1") && r.out().contains("5-NN"), r.out());
        // the same seed, the same figures (and --json leaves the table out)
        MainTest.Run again = MainTest.run("probe", "--model", run.resolve("model.safetensors").toString(), "--threads", "1", "--json");
        assertEquals(0, again.code(), again.err());
        assertFalse(again.out().contains("representation  "), again.out());
        assertEquals(find(lines, "codes", "classifier", "logistic_regression").get("test_accuracy"),
                find(jsonLines(again.out()), "codes", "classifier", "logistic_regression").get("test_accuracy"));
    }

    static Path copyResource(String name, Path to) throws Exception {
        try (InputStream in = FashionMnist.class.getResourceAsStream("fashion-mnist/" + name)) {
            Files.copy(in, to);
        }
        return to;
    }

    /** A PCA model of the bundled test images (quick to make; probe takes any model). */
    static Path pcaModel(Path dir, int q) throws Exception {
        Path m = dir.resolve("pca.safetensors");
        LinearModel.of(Pca.fit(FashionMnist.bundledTest(), q, Parallelism.serial())).save(m);
        return m;
    }

    @Test
    void labelsFromTheIdxFileBesideAndFromACsvColumn(@TempDir Path dir) throws Exception {
        Path model = pcaModel(dir, 8);
        Path images = copyResource("t10k-images-idx3-ubyte.gz", dir.resolve("t10k-images-idx3-ubyte.gz"));
        copyResource("t10k-labels-idx1-ubyte.gz", dir.resolve("t10k-labels-idx1-ubyte.gz"));
        MainTest.Run r = MainTest.run("probe", "--model", model.toString(), "--data", images.toString(), "--json", "--k", "3",
                "--threads", "1");
        assertEquals(0, r.code(), r.err());
        List<Map<?, ?>> lines = jsonLines(r.out());
        assertEquals(10, number(lines.get(0), "classes"));
        assertEquals(3, number(find(lines, "codes", "classifier", "knn"), "k"));
        assertTrue(number(find(lines, "codes", "classifier", "knn"), "test_accuracy") > 0.5, r.out());
        // the same images with the labels in a CSV column: the same figures
        int[] labels = FashionMnist.bundledTest().labels();
        StringBuilder sb = new StringBuilder();
        var d = FashionMnist.bundledTest();
        for (int i = 0; i < d.rows(); i++) {
            sb.append("img").append(i).append(',').append(labels[i] + 100);   // any whole numbers name the classes
            for (float v : d.row(i)) {
                sb.append(',').append(v);
            }
            sb.append('\n');
        }
        Path csv = Files.writeString(dir.resolve("images.csv"), sb);
        MainTest.Run c = MainTest.run("probe", "--model", model.toString(), "--data", csv.toString(), "--label-column", "2",
                "--id-column", "1", "--json", "--k", "3", "--threads", "1");
        assertEquals(0, c.code(), c.err());
        List<Map<?, ?>> fromCsv = jsonLines(c.out());
        for (String rep : new String[] {"codes", "raw", "pca"}) {
            assertEquals(find(lines, rep, "classifier", "knn").get("test_accuracy"), find(fromCsv, rep, "classifier", "knn")
                    .get("test_accuracy"), rep);
            assertEquals(find(lines, rep, "classifier", "logistic_regression").get("test_macro_f1"),
                    find(fromCsv, rep, "classifier", "logistic_regression").get("test_macro_f1"), rep);
        }
    }

    static void assertOneLineError(MainTest.Run r, String... parts) {
        assertEquals(2, r.code(), r.out() + r.err());
        for (String p : parts) {
            assertTrue(r.err().contains(p), "'" + p + "' in: " + r.err());
        }
        assertFalse(r.err().contains("\tat "), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void dataWithoutLabelsAndBadOptionsAreOneLineErrors(@TempDir Path dir) throws Exception {
        Path model = pcaModel(dir, 4);
        Path images = copyResource("t10k-images-idx3-ubyte.gz", dir.resolve("t10k-images-idx3-ubyte.gz"));
        assertOneLineError(MainTest.run("probe", "--model", model.toString(), "--data", images.toString()),
                images + " has no labels", "t10k-labels-idx1-ubyte(.gz) beside it", "--labels FILE");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            sb.append(i % 3).append(',').append(i).append(',').append(i * i % 7).append(',').append(i % 5).append('\n');
        }
        Path csv = Files.writeString(dir.resolve("t.csv"), sb);
        Path small = dir.resolve("small.safetensors");
        float[] flat = new float[20 * 3];
        for (int i = 0; i < 20; i++) {
            flat[i * 3] = i;
            flat[i * 3 + 1] = i * i % 7;
            flat[i * 3 + 2] = i % 5;
        }
        LinearModel.of(Pca.fit(new org.latent4j.data.Dataset(flat, 20, 3, null, "t"), 2, Parallelism.serial())).save(small);
        assertOneLineError(MainTest.run("probe", "--model", small.toString(), "--data", csv.toString()),
                csv + " has no labels", "--label-column NAME|NUMBER");
        assertOneLineError(MainTest.run("probe", "--model", small.toString(), "--data", csv.toString(), "--label-column", "1",
                "--test-fraction", "1.5"), "--test-fraction 1.5");
        assertOneLineError(MainTest.run("probe", "--model", small.toString(), "--data", csv.toString(), "--label-column", "1",
                "--k", "0"), "--k must be positive");
        assertOneLineError(MainTest.run("probe", "--model", small.toString(), "--data", csv.toString(), "--label-column", "1",
                "--k", "15"), "--k 15: the training part has only 14 rows");
        assertOneLineError(MainTest.run("probe", "--model", small.toString(), "--data", csv.toString(), "--label-column", "1",
                "--id-column", "2"), "has 2 features per row but the model takes 3");
        Path one = Files.writeString(dir.resolve("one.csv"), "7,1,2,3\n7,2,3,4\n7,5,5,5\n7,1,1,1\n");
        assertOneLineError(MainTest.run("probe", "--model", small.toString(), "--data", one.toString(), "--label-column", "1"),
                "every row has the label 7", "at least 2 classes");
        assertOneLineError(MainTest.run("probe", "--model", model.toString(), "--label-column", "1"),
                "--label-column picks a column of a CSV file");
        // the CSV with its label column: a result (3 classes)
        MainTest.Run ok = MainTest.run("probe", "--model", small.toString(), "--data", csv.toString(), "--label-column", "1",
                "--k", "3", "--json");
        assertEquals(0, ok.code(), ok.err());
        assertEquals(3, number(jsonLines(ok.out()).get(0), "classes"));
    }
}
