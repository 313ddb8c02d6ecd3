package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Csv;
import org.latent4j.dsl.Json;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.Models;
import org.latent4j.model.Scaling;

/** train --data FILE on generated tables (CSV with a header, label and ID columns; headerless CSV; .npy), then every use command. */
class OwnDataCommandsTest {
    /**
     * A table with a known structure: 5 features driven by 2 hidden factors, on very different
     * scales (a column near 5000 with sd 1000, one of 0.01), an ID column, and a label column
     * marking 1 in 20 rows (those get an amount far off the structure).
     */
    static float[][] table(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) {
            double a = r.nextGaussian(), b = r.nextGaussian();
            boolean odd = i % 20 == 7;
            x[i] = new float[] {(float) (1000 * a + 5000 + 20 * r.nextGaussian()), (float) (0.01 * b + 0.0005 * r.nextGaussian()),
                (float) (a - b + 0.05 * r.nextGaussian()), (float) (2 * a + 0.05 * r.nextGaussian() + (odd ? 8 : 0)),
                (float) (b + 3 + 0.05 * r.nextGaussian()), odd ? 1 : 0};
        }
        return x;
    }

    static Path writeCsv(Path file, float[][] x, boolean header) throws Exception {
        StringBuilder sb = new StringBuilder(header ? "tx,amount,rate,\"a, minus b\",twice_a,b,Class\n" : "");
        for (int i = 0; i < x.length; i++) {
            sb.append(header ? "tx-" + i : String.valueOf(1000 + i));
            for (int j = 0; j < x[i].length; j++) {
                sb.append(',').append(j == 5 ? String.valueOf((int) x[i][j]) : String.format(Locale.ROOT, "%.6g", x[i][j]));
            }
            sb.append('\n');
        }
        return Files.writeString(file, sb);
    }

    static Map<?, ?> metrics(Path run) throws Exception {
        return (Map<?, ?>) Json.parse(Files.readString(run.resolve("metrics.json")));
    }

    static double[] trainLoss(Map<?, ?> metrics) {
        return ((List<?>) metrics.get("history")).stream().mapToDouble(e -> (Double) ((Map<?, ?>) e).get("train_neg_elbo")).toArray();
    }

    @Test
    void csvWithHeaderLabelAndIdTrainsAndEveryUseCommandWorks(@TempDir Path dir) throws Exception {
        float[][] x = table(300, 1);
        Path csv = writeCsv(dir.resolve("transactions.csv"), x, true);
        Path run = dir.resolve("run");
        MainTest.Run r = MainTest.run("train", "--data", csv.toString(), "--label-column", "Class", "--id-column", "tx",
                "--epochs", "40", "--batch", "32", "--lr", "3e-3", "--layers", "16,8", "--latent", "2", "--threads", "1",
                "--out", run.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("300 rows of 5 features (label column Class and ID column tx left out)"), r.out());
        assertTrue(r.out().contains("validation: 30 of the 300 rows held out (--validation 0.1, the default"), r.out());
        assertTrue(r.out().contains("Gaussian (unit variance) likelihood (values outside [0, 1]), standardize input scaling"), r.out());
        assertTrue(r.out().contains("(270 train, 30 validation rows)"), r.out());
        double[] loss = trainLoss(metrics(run));
        assertEquals(40, loss.length);
        assertTrue(loss[39] < 0.8 * loss[0], "the loss falls: " + java.util.Arrays.toString(loss));
        assertEquals("standard", metrics(run).get("scaling"));
        assertEquals("gaussian", metrics(run).get("likelihood"));
        Path model = run.resolve("model.safetensors");
        Autoencoder ae = (Autoencoder) Models.load(model);
        assertEquals("standard", ae.inputScaling().kind(), "the scaling is in the model file");

        String[] cols = {"--label-column", "Class", "--id-column", "tx"};
        r = MainTest.run(cat(new String[] {"encode", "--model", model.toString(), "--data", csv.toString(), "--out",
                dir.resolve("z.csv").toString()}, cols));
        assertEquals(0, r.code(), r.err());
        assertEquals(300, Csv.read(dir.resolve("z.csv")).rows());
        assertEquals(2, Csv.read(dir.resolve("z.csv")).features());

        // Reconstructions come back in the data's units: on the normal rows every column's squared error is well below its
        // variance (without the unscaling it would be about mean^2 + variance: 2.5e7 for the first column, 1 for the second).
        r = MainTest.run(cat(new String[] {"reconstruct", "--model", model.toString(), "--data", csv.toString(), "--out",
                dir.resolve("r.csv").toString()}, cols));
        assertEquals(0, r.code(), r.err());
        float[] rec = Csv.read(dir.resolve("r.csv")).x();
        for (int j = 0; j < 5; j++) {
            double mean = 0, var = 0, err = 0;
            int normal = 0;
            for (float[] row : x) {
                mean += row[5] == 0 ? row[j] : 0;
                normal += row[5] == 0 ? 1 : 0;
            }
            mean /= normal;
            for (int i = 0; i < x.length; i++) {
                if (x[i][5] == 0) {
                    var += (x[i][j] - mean) * (x[i][j] - mean) / normal;
                    err += (x[i][j] - rec[i * 5 + j]) * (x[i][j] - rec[i * 5 + j]) / normal;
                }
            }
            System.out.printf(Locale.ROOT, "column %d: reconstruction error %.4g, variance %.4g%n", j, err, var);
            assertTrue(err < 0.7 * var, "column " + j + ": mean squared error " + err + " against a variance of " + var);
        }

        r = MainTest.run(cat(new String[] {"score", "--model", model.toString(), "--data", csv.toString(), "--out",
                dir.resolve("s.csv").toString(), "--anomalous-classes", "1"}, cols));
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(dir.resolve("s.csv"));
        assertEquals("tx,score", lines.get(0));
        assertEquals(301, lines.size());
        assertTrue(lines.get(1).startsWith("tx-0,") && lines.get(300).startsWith("tx-299,"), lines.get(1));
        double roc = Double.parseDouble(r.out().replaceFirst("(?s).*ROC-AUC ([0-9.]+).*", "$1"));
        assertTrue(roc > 0.9, "the planted rows score high: " + r.out());

        r = MainTest.run(cat(new String[] {"calibrate", "--model", model.toString(), "--normal", csv.toString(), "--out",
                dir.resolve("det.safetensors").toString(), "--rule", "contamination:0.05"}, cols));
        assertEquals(0, r.code(), r.err());
        r = MainTest.run(cat(new String[] {"score", "--model", dir.resolve("det.safetensors").toString(), "--data", csv.toString(),
                "--out", dir.resolve("s2.csv").toString()}, cols));
        assertEquals(0, r.code(), r.err());
        assertEquals("tx,score,anomalous", Files.readAllLines(dir.resolve("s2.csv")).get(0));
        assertTrue(r.out().contains("15 above the threshold"), r.out());

        r = MainTest.run(cat(new String[] {"eval", "--model", model.toString(), "--data", csv.toString()}, cols));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"rows\":300"), r.out());

        // Samples in the data's units: the first column's mean near 5000, the second's spread near 0.01.
        r = MainTest.run("sample", "--model", model.toString(), "-n", "400", "--out", dir.resolve("samples.csv").toString());
        assertEquals(0, r.code(), r.err());
        float[] smp = Csv.read(dir.resolve("samples.csv")).x();
        double m0 = 0, m1 = 0;
        for (int i = 0; i < 400; i++) {
            m0 += smp[i * 5] / 400.0;
            m1 += Math.abs(smp[i * 5 + 1]) / 400.0;
        }
        assertTrue(Math.abs(m0 - 5000) < 500, "sample mean of the amount column " + m0);
        assertTrue(m1 > 0.001 && m1 < 0.05, "sample size of the rate column " + m1);

        r = MainTest.run(cat(new String[] {"pca", "--data", csv.toString(), "-q", "2"}, cols));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*features\\s+5\\n.*"), "pca leaves the label and ID columns out too: " + r.out());

        // A forgotten --label-column / --id-column: the width error says what to do.
        CliErrorsTest.oneLine(MainTest.run("encode", "--model", model.toString(), "--data", csv.toString(), "--out",
                dir.resolve("z2.csv").toString()), "line 2, column 1 (tx): 'tx-0' is not a number");
        CliErrorsTest.oneLine(MainTest.run("encode", "--model", model.toString(), "--data", csv.toString(), "--id-column", "tx",
                "--out", dir.resolve("z2.csv").toString()), "6 features per row but the model takes 5", "--label-column");
    }

    static String[] cat(String[] a, String[] b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** The scaling the model keeps is the test's own arithmetic, and reconstruct/sample undo it exactly. */
    @Test
    void scalingRoundTripAgainstTheArithmetic(@TempDir Path dir) throws Exception {
        float[][] x = table(120, 2);
        Path csv = writeCsv(dir.resolve("t.csv"), x, false);          // no header: columns by number
        Path val = writeCsv(dir.resolve("v.csv"), table(40, 3), false);
        for (String scale : new String[] {"standardize", "min-max", "log1p"}) {
            Path run = dir.resolve("run-" + scale);
            MainTest.Run r = MainTest.run("train", "--data", csv.toString(), "--validation-data", val.toString(), "--id-column", "1",
                    "--label-column", "7", "--scale", scale, "--epochs", "2", "--latent", "2", "--layers", "8", "--threads", "1",
                    "--kind", "ae", "--out", run.toString(), "--checkpoint-every", "0");
            if (scale.equals("log1p")) {
                // column 4 (a - b) goes below -1: log1p refuses it, naming the row and the feature
                CliErrorsTest.oneLine(r, "t.csv", "--scale log1p", "needs values above -1");
                continue;
            }
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("validation: the 40 rows of " + val), r.out());
            Autoencoder ae = (Autoencoder) Models.load(run.resolve("model.safetensors"));
            float[][] features = new float[x.length][5];
            for (int i = 0; i < x.length; i++) {
                System.arraycopy(x[i], 0, features[i], 0, 5);
                for (int j = 0; j < 5; j++) {   // as the CSV holds them
                    features[i][j] = Float.parseFloat(String.format(Locale.ROOT, "%.6g", x[i][j]));
                }
            }
            double[] offset = new double[5], width = new double[5];
            for (int j = 0; j < 5; j++) {
                double mean = 0, m2 = 0, lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
                for (float[] row : features) {
                    mean += row[j];
                    lo = Math.min(lo, row[j]);
                    hi = Math.max(hi, row[j]);
                }
                mean /= features.length;
                for (float[] row : features) {
                    m2 += (row[j] - mean) * (row[j] - mean);
                }
                offset[j] = scale.equals("standardize") ? mean : lo;
                width[j] = scale.equals("standardize") ? Math.sqrt(m2 / features.length) : hi - lo;
                assertEquals(offset[j], ae.inputScaling().offset()[j], 1e-5 * Math.abs(offset[j]) + 1e-9, scale + " offset " + j);
                assertEquals(width[j], ae.inputScaling().scale()[j], 1e-5 * width[j], scale + " scale " + j);
            }
            // reconstruct(x) == unscale(plain model(scale(x))), the scaling done here
            Autoencoder plain = ae.withInputScaling(Scaling.none());
            float[][] scaled = new float[features.length][5];
            for (int i = 0; i < features.length; i++) {
                for (int j = 0; j < 5; j++) {
                    scaled[i][j] = (float) ((features[i][j] - offset[j]) / width[j]);
                }
            }
            float[][] inner = plain.reconstruct(scaled), outer = ae.reconstruct(features);
            float[][] samples = ae.sample(5, 9), innerSamples = plain.sample(5, 9);
            for (int i = 0; i < features.length; i++) {
                for (int j = 0; j < 5; j++) {
                    double want = inner[i][j] * width[j] + offset[j];
                    assertEquals(want, outer[i][j], 1e-4 * (Math.abs(want) + width[j]), scale + " row " + i + " feature " + j);
                    if (i < 5) {
                        double s = innerSamples[i][j] * width[j] + offset[j];
                        assertEquals(s, samples[i][j], 1e-4 * (Math.abs(s) + width[j]), scale + " sample " + i);
                    }
                }
            }
            assertArrayEquals(plain.encode(scaled)[3], ae.encode(features)[3], 1e-5f, "codes of the scaled rows");
        }
    }

    /** log1p on counts: the offsets are the mean of log(1 + x) and reconstructions come back through expm1. */
    @Test
    void log1pOnCounts(@TempDir Path dir) throws Exception {
        SplittableRandom rnd = new SplittableRandom(4);
        StringBuilder sb = new StringBuilder("g1,g2,g3\n");
        float[][] counts = new float[150][3];
        for (int i = 0; i < 150; i++) {
            double level = Math.exp(2 + rnd.nextGaussian());
            for (int j = 0; j < 3; j++) {
                counts[i][j] = (float) Math.floor(level * (j + 1) * (0.8 + 0.4 * rnd.nextDouble()));
                sb.append(j == 0 ? "" : ",").append((int) counts[i][j]);
            }
            sb.append('\n');
        }
        Path csv = Files.writeString(dir.resolve("counts.csv"), sb);
        MainTest.Run r = MainTest.run("train", "--data", csv.toString(), "--scale", "log1p", "--epochs", "2", "--latent", "1",
                "--layers", "4", "--threads", "1", "--out", dir.resolve("run").toString(), "--validation", "0.2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("validation: 30 of the 150 rows held out (--validation 0.2, a random split"), r.out());
        assertTrue(r.out().contains("log1p input scaling fitted on the 120 training rows"), r.out());
        Autoencoder ae = (Autoencoder) Models.load(dir.resolve("run/model.safetensors"));
        float[][] y = ae.withInputScaling(Scaling.none()).reconstruct(ae.inputScaling().apply(counts));
        float[][] back = ae.reconstruct(counts);
        float[] off = ae.inputScaling().offset(), sc = ae.inputScaling().scale();
        for (int i = 0; i < counts.length; i++) {
            for (int j = 0; j < 3; j++) {
                double want = Math.expm1(y[i][j] * (double) sc[j] + off[j]);
                assertEquals(want, back[i][j], 1e-4 * (1 + Math.abs(want)));
                double scaled = (Math.log1p(counts[i][j]) - off[j]) / sc[j];
                assertEquals(scaled, ae.inputScaling().apply(new float[][] {counts[i]})[0][j], 1e-5);
            }
        }
    }

    static byte[] npy(float[][] x) {
        String h = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + x.length + ", " + x[0].length + "), }";
        int pad = (64 - (10 + h.length() + 1) % 64) % 64;
        h = h + " ".repeat(pad) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + h.length() + 4 * x.length * x[0].length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) h.length()).put(h.getBytes(StandardCharsets.US_ASCII));
        for (float[] row : x) {
            for (float v : row) {
                b.putFloat(v);
            }
        }
        return b.array();
    }

    @Test
    void npyInTheUnitIntervalGetsBernoulliAndNoScaling(@TempDir Path dir) throws Exception {
        SplittableRandom rnd = new SplittableRandom(5);
        float[][] x = new float[200][12];
        for (int i = 0; i < x.length; i++) {
            int pattern = i % 3;
            for (int j = 0; j < 12; j++) {
                x[i][j] = j / 4 == pattern ? (float) (0.8 + 0.2 * rnd.nextDouble()) : (float) (0.1 * rnd.nextDouble());
            }
        }
        Path npy = Files.write(dir.resolve("x.npy"), npy(x));
        Path run = dir.resolve("run");
        MainTest.Run r = MainTest.run("train", "--data", npy.toString(), "--validation", "0.25", "--epochs", "10", "--batch", "25",
                "--lr", "1e-2", "--threads", "1", "--out", run.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Bernoulli likelihood (every value is in [0, 1]), no input scaling (values in [0, 1])"), r.out());
        assertTrue(r.out().contains("validation: 50 of the 200 rows held out"), r.out());
        assertTrue(r.out().contains("latent 6") || r.out().contains("(batch, 6)"), "latent: half of 12 features: " + r.out());
        double[] loss = trainLoss(metrics(run));
        assertTrue(loss[loss.length - 1] < 0.8 * loss[0], java.util.Arrays.toString(loss));
        assertTrue(((Autoencoder) Models.load(run.resolve("model.safetensors"))).inputScaling().isNone());
        r = MainTest.run("reconstruct", "--model", run.resolve("model.safetensors").toString(), "--data", npy.toString(), "--out",
                dir.resolve("r.csv").toString());
        assertEquals(0, r.code(), r.err());
        for (float v : Csv.read(dir.resolve("r.csv")).x()) {
            assertTrue(v >= 0 && v <= 1, "Bernoulli means: " + v);
        }
        // the same seed, the same split and the same weights; another seed, another split
        MainTest.Run again = MainTest.run("train", "--data", npy.toString(), "--validation", "0.25", "--epochs", "10", "--batch", "25",
                "--lr", "1e-2", "--threads", "2", "--out", dir.resolve("again").toString());
        assertEquals(0, again.code(), again.err());
        assertArrayEquals(Files.readAllBytes(run.resolve("model.safetensors")), Files.readAllBytes(dir.resolve("again/model.safetensors")));
    }

    @Test
    void badFilesAndOptionsGetOneLine(@TempDir Path dir) throws Exception {
        Path t = Files.writeString(dir.resolve("t.csv"), "id,a,b,c\nr1,1,2,5\nr2,3,4,5\nr3,5,7,5\nr4,2,2,5\n");
        String out = dir.resolve("o").toString();
        CliErrorsTest.oneLine(MainTest.run("train", "--data", t.toString(), "--out", out), "t.csv", "line 2, column 1 (id): 'r1' is not a number");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", t.toString(), "--id-column", "id", "--validation", "0.25", "--out", out),
                "column 'c' holds 5.0 in every training row", "--scale standardize would divide by zero", "--scale none");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", t.toString(), "--id-column", "name", "--out", out),
                "--id-column name: no such column (the header has: id, a, b, c)");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", t.toString(), "--id-column", "9", "--out", out),
                "--id-column 9: the file has 4 columns (1 to 4)");
        Path two = Files.writeString(dir.resolve("two.csv"), "a,b\n1,2\n3,4\n");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", two.toString(), "--out", out), "2 rows are too few to hold out 1");
        Path noHeader = Files.writeString(dir.resolve("n.csv"), "1,2\n3,4\n");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", noHeader.toString(), "--label-column", "Class", "--out", out),
                "no header line", "column's number (1 to 2)");
        Path text = Files.writeString(dir.resolve("x.csv"), "a,b\n1,2\n3,oops\n");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", text.toString(), "--out", out), "line 3, column 2 (b): 'oops' is not a number");
        Path nan = Files.writeString(dir.resolve("nan.csv"), "a,b\n1,2\n3,NaN\n");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", nan.toString(), "--out", out), "line 3, column 2 (b): NaN is not a finite number");
        Path ragged = Files.writeString(dir.resolve("r.csv"), "a,b\n1,2\n3\n");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", ragged.toString(), "--out", out), "line 3 has 1 columns but line 1 has 2");
        Path label = Files.writeString(dir.resolve("l.csv"), "a,b,y\n1,2,0\n3,4,fraud\n");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", label.toString(), "--label-column", "y", "--out", out),
                "line 3, column 3 (y): 'fraud' is not a whole-number label");
        Path wide = Files.writeString(dir.resolve("w.csv"), "1,20\n3,40\n5,60\n7,80\n9,100\n11,120\n13,140\n15,160\n17,180\n19,200\n");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", wide.toString(), "--likelihood", "bernoulli", "--scale", "none", "--out", out),
                "--likelihood bernoulli needs every value in [0, 1]", "feature 1 (0-based) of " + wide + " holds 20.0", "--scale min-max");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", wide.toString(), "--validation", "1.5", "--out", out), "--validation 1.5");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", wide.toString(), "--validation", "0.2", "--validation-data",
                wide.toString(), "--out", out), "--validation and --validation-data: give one");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", wide.toString(), "--kind", "gan", "--out", out), "--kind gan");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", wide.toString(), "--scale", "zscore", "--out", out), "--scale zscore");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", wide.toString(), "--likelihood", "poisson", "--out", out), "--likelihood poisson");
        Path spec = Files.writeString(dir.resolve("s.json"), org.latent4j.dsl.Model.encoder(2).latent(1).decoder().dense(2).gaussian().toJson());
        CliErrorsTest.oneLine(MainTest.run("train", "--data", wide.toString(), "--spec", spec.toString(), "--layers", "4", "--out", out),
                "--spec gives the whole model");
        Path npy = Files.write(dir.resolve("x.npy"), npy(new float[][] {{1, 2}, {3, 4}, {5, 6}}));
        CliErrorsTest.oneLine(MainTest.run("train", "--data", npy.toString(), "--label-column", "1", "--out", out),
                "--label-column picks a column of a CSV file");
        Path quoted = Files.writeString(dir.resolve("q.csv"), "a,b\n\"1,2\n");
        CliErrorsTest.oneLine(MainTest.run("train", "--data", quoted.toString(), "--out", out), "line 2: a double quote is not closed");
        assertTrue(!Files.exists(Path.of(out)), "no run folder after an error");
    }
}
