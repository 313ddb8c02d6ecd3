package org.latent4j.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.latent4j.data.Csv;
import org.latent4j.data.DataFiles;
import org.latent4j.data.Dataset;
import org.latent4j.io.Pictures;
import org.latent4j.kernel.Parallelism;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.LatentModel;
import org.latent4j.model.LinearModel;
import org.latent4j.model.Models;
import org.latent4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The commands that use a model file (autoencoder, VAE, PCA or PPCA): eval, encode, reconstruct, sample, score. */
final class UseCommands {
    private UseCommands() {}

    /** --model and --data, shared by eval, encode and reconstruct. */
    static final class ModelAndData {
        @Option(names = "--model", required = true, paramLabel = "FILE", description = "A .safetensors model file.")
        Path model;

        @Option(names = "--data", required = true, paramLabel = "PATH",
                description = ".csv, .npy, IDX images, or a Fashion-MNIST folder (its test set).")
        Path data;

        LatentModel load() throws java.io.IOException {
            return Models.load(model);
        }

        Dataset rows(LatentModel m) throws java.io.IOException {
            return UseCommands.rows(data, m);
        }
    }

    static Dataset rows(Path data, LatentModel m) throws java.io.IOException {
        Dataset d = DataFiles.read(data, true);
        if (d.features() != m.inputDim()) {
            throw new IllegalArgumentException(data + " has " + d.features() + " features per row but the model takes " + m.inputDim());
        }
        return d;
    }

    static float[][] asRows(Dataset d) {
        float[][] x = new float[d.rows()][];
        for (int i = 0; i < x.length; i++) {
            x[i] = d.row(i);
        }
        return x;
    }

    static void maybePicture(Path out, float[][] images) throws java.io.IOException {
        if (images.length > 0 && images[0].length == 784) {
            Path png = out.resolveSibling(out.getFileName().toString().replaceFirst("\\.csv$", "") + ".png");
            float[][] first = java.util.Arrays.copyOf(images, Math.min(images.length, 64));
            Pictures.imageGrid(png, first, 8, 28, 28, 3);
            System.out.println("wrote " + png);
        }
    }

    @Command(name = "eval", description = "Mean -ELBO (reconstruction + KL) per row of a data set, one z sample per row.")
    static final class Eval implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Option(names = "--seed", defaultValue = "42")
        long seed;

        @Option(names = "--threads", defaultValue = "1")
        int threads;

        @Override
        public Integer call() throws Exception {
            LatentModel m = io.load();
            Dataset d = io.rows(m);
            if (m instanceof Autoencoder ae) {
                try (Parallelism par = Parallelism.of(threads)) {
                    double[] r = Trainer.evaluate(ae.graph(), ae.parameters(), d, 256, seed, par);
                    System.out.printf(Locale.ROOT, "{\"rows\":%d,\"neg_elbo\":%.4f,\"reconstruction\":%.4f,\"kl\":%.4f}%n", d.rows(), r[0] + r[1], r[0], r[1]);
                }
                return 0;
            }
            float[][] x = asRows(d);
            double se = 0;
            for (double v : m.score(x)) {
                se += v;
            }
            String extra = "";
            if (m instanceof LinearModel lm && m.kind().equals("ppca")) {
                double nll = 0;
                for (double v : lm.negativeLogLikelihood(x)) {
                    nll += v;
                }
                extra = String.format(Locale.ROOT, ",\"neg_log_likelihood\":%.4f", nll / d.rows());
            }
            System.out.printf(Locale.ROOT, "{\"rows\":%d,\"kind\":\"%s\",\"squared_error\":%.4f%s}%n", d.rows(), m.kind(), se / d.rows(), extra);
            return 0;
        }
    }

    @Command(name = "encode", description = "Latent means (and with --variance the log-variances) of each row, as CSV.")
    static final class Encode implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Option(names = "--variance", description = "Append the latent log-variances (VAE and PPCA).")
        boolean variance;

        @Override
        public Integer call() throws Exception {
            LatentModel m = io.load();
            float[][] x = asRows(io.rows(m));
            float[][] z = m.encode(x);
            if (variance) {
                float[][] lv;
                if (m instanceof Autoencoder ae && ae.spec().isVariational()) {
                    lv = ae.encodeLogVariance(x);
                } else if (m instanceof LinearModel lm && m.kind().equals("ppca")) {
                    lv = new float[x.length][];
                    java.util.Arrays.fill(lv, lm.encodeLogVariance());
                } else {
                    throw new IllegalArgumentException("--variance: a " + m.kind() + " model has no latent variance (a VAE or PPCA has)");
                }
                for (int i = 0; i < z.length; i++) {
                    float[] both = java.util.Arrays.copyOf(z[i], z[i].length * 2);
                    System.arraycopy(lv[i], 0, both, z[i].length, lv[i].length);
                    z[i] = both;
                }
            }
            Csv.write(out, z);
            System.out.println("wrote " + out + " (" + z.length + " rows x " + z[0].length + ")");
            return 0;
        }
    }

    @Command(name = "reconstruct", description = "Reconstructions (decoder means through the latent mean) of each row, as CSV (and PNG for 28x28 images).")
    static final class Reconstruct implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Override
        public Integer call() throws Exception {
            LatentModel m = io.load();
            float[][] r = m.reconstruct(asRows(io.rows(m)));
            Csv.write(out, r);
            System.out.println("wrote " + out + " (" + r.length + " rows)");
            maybePicture(out, r);
            return 0;
        }
    }

    @Command(name = "score", description = {
            "Anomaly score of each row as CSV (higher = more anomalous), and the verdict (1 = anomalous) when a threshold is known.",
            "Default: the squared reconstruction error summed over the features, or the detector saved in the model file",
            "(see calibrate)."})
    static final class Score implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Option(names = "--method", paramLabel = "METHOD",
                description = "mse, mae, nll (-log p(x|z), L samples), elbo (-ELBO, L samples) or iwae (-log p(x), K samples).")
        String method;

        @Option(names = "--samples", defaultValue = "10", description = "L or K for nll, elbo and iwae (default: ${DEFAULT-VALUE}).")
        int samples;

        @Option(names = "--seed", defaultValue = "1", description = "Seed of the samples (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--threshold", description = "Flag rows scoring above this (default: the detector's, if the file has one).")
        Double threshold;

        @Option(names = "--contributions", paramLabel = "FILE.csv", description = "Also write each feature's part of each row's score.")
        Path contributions;

        @Override
        public Integer call() throws Exception {
            // One read of the file: the model, and the detector saved with it if there is one.
            org.latent4j.io.SafeTensors.Contents c = org.latent4j.io.SafeTensors.read(io.model);
            LatentModel m = Models.from(c, io.model);
            float[][] x = asRows(io.rows(m));
            AnomalyDetector d = method != null ? detector(m, method, samples, seed) : AnomalyDetector.from(c, io.model);
            double[] sc = d == null ? m.score(x) : d.score(x);
            double t = threshold != null ? threshold : d == null ? Double.NaN : d.threshold();
            float[][] rows = new float[sc.length][];
            int flagged = 0;
            for (int i = 0; i < sc.length; i++) {
                boolean bad = sc[i] > t;
                flagged += bad ? 1 : 0;
                rows[i] = Double.isNaN(t) ? new float[] {(float) sc[i]} : new float[] {(float) sc[i], bad ? 1 : 0};
            }
            Csv.write(out, rows);
            if (contributions != null) {
                if (d == null) {
                    d = AnomalyDetector.of(m, AnomalyDetector.Score.MSE, 1, seed);
                }
                double[][] parts = d.contributions(x);
                float[][] f = new float[parts.length][];
                for (int i = 0; i < parts.length; i++) {
                    f[i] = new float[parts[i].length];
                    for (int j = 0; j < f[i].length; j++) {
                        f[i][j] = (float) parts[i][j];
                    }
                }
                Csv.write(contributions, f);
            }
            System.out.println("wrote " + out + " (" + sc.length + " scores" + (Double.isNaN(t) ? ""
                    : ", " + flagged + " above the threshold " + t) + ")" + (contributions != null ? " and " + contributions : ""));
            return 0;
        }
    }

    /** The detector that --method names. */
    static AnomalyDetector detector(LatentModel m, String method, int samples, long seed) {
        AnomalyDetector.Score s = switch (method.toLowerCase(java.util.Locale.ROOT)) {
            case "mse" -> AnomalyDetector.Score.MSE;
            case "mae" -> AnomalyDetector.Score.MAE;
            case "nll" -> AnomalyDetector.Score.NEG_LOG_LIKELIHOOD;
            case "elbo" -> AnomalyDetector.Score.NEG_ELBO;
            case "iwae" -> AnomalyDetector.Score.IMPORTANCE_WEIGHTED;
            default -> throw new IllegalArgumentException("--method " + method + ": expected mse, mae, nll, elbo or iwae");
        };
        return AnomalyDetector.of(m, s, samples, seed);
    }

    @Command(name = "calibrate", description = {
            "Makes an anomaly detector: scores held-out normal rows, sets the threshold by a rule, and saves the model,",
            "the score and the threshold as one model file (for score)."})
    static final class Calibrate implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "FILE")
        Path model;

        @Option(names = "--normal", required = true, paramLabel = "PATH", description = "Normal rows held out from training.")
        Path normal;

        @Option(names = "--method", defaultValue = "mse", description = "mse, mae, nll, elbo or iwae (default: ${DEFAULT-VALUE}).")
        String method;

        @Option(names = "--samples", defaultValue = "10")
        int samples;

        @Option(names = "--seed", defaultValue = "1")
        long seed;

        @Option(names = "--rule", defaultValue = "percentile:99",
                description = "percentile:P, max, contamination:RATE, iqr:K or mad:K (default: ${DEFAULT-VALUE}).")
        String rule;

        @Option(names = "--out", required = true, paramLabel = "FILE.safetensors")
        Path out;

        @Override
        public Integer call() throws Exception {
            LatentModel m = Models.load(model);
            float[][] x = asRows(rows(normal, m));
            String[] r = rule.split(":");
            AnomalyDetector.Rule kind;
            try {
                kind = AnomalyDetector.Rule.valueOf(r[0].toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--rule " + rule + ": expected percentile:P, max, contamination:RATE, iqr:K or mad:K");
            }
            double param = r.length > 1 ? Double.parseDouble(r[1]) : kind == AnomalyDetector.Rule.IQR ? 1.5 : 3;
            AnomalyDetector d = detector(m, method, samples, seed).calibrate(x, kind, param);
            d.save(out);
            int flagged = 0;
            for (boolean b : d.isAnomalous(x)) {
                flagged += b ? 1 : 0;
            }
            System.out.printf(java.util.Locale.ROOT, "threshold %.6g (%s, %s): %d of %d normal rows above it; wrote %s%n",
                    d.threshold(), method, rule, flagged, x.length, out);
            return 0;
        }
    }

    @Command(name = "sample", description = "Draws from the model (decoded prior samples), as CSV (and PNG for 28x28 images).")
    static final class Sample implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "FILE")
        Path model;

        @Option(names = {"-n", "--count"}, defaultValue = "64")
        int count;

        @Option(names = "--seed", defaultValue = "42")
        long seed;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (count <= 0) {
                throw new IllegalArgumentException("--count must be positive, got " + count);
            }
            LatentModel m = Models.load(model);
            float[][] s = m.sample(count, seed);
            Csv.write(out, s);
            System.out.println("wrote " + out + " (" + s.length + " samples)");
            maybePicture(out, s);
            return 0;
        }
    }
}
