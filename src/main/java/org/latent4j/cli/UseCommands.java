package org.latent4j.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.latent4j.data.Csv;
import org.latent4j.data.DataFiles;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.data.Idx;
import org.latent4j.io.Pictures;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Shape;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.CodePrior;
import org.latent4j.model.DiscreteCodes;
import org.latent4j.model.LatentModel;
import org.latent4j.model.LatentProjection;
import org.latent4j.model.LinearModel;
import org.latent4j.model.Metrics;
import org.latent4j.model.Models;
import org.latent4j.model.Scaling;
import org.latent4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The commands that use a model file (autoencoder, VAE, PCA or PPCA): eval, encode, reconstruct,
 * denoise, interpolate, sample, score, calibrate.
 */
final class UseCommands {
    private UseCommands() {}

    /** --model and --data, shared by eval, encode and reconstruct. */
    static final class ModelAndData {
        @Option(names = "--model", required = true, paramLabel = "FILE", description = "A .safetensors model file.")
        Path model;

        @Option(names = "--data", required = true, paramLabel = "PATH",
                description = ".csv, .npy, IDX images, or a Fashion-MNIST folder (its test set), in the data's own units (a model"
                        + " trained on scaled rows scales them itself).")
        Path data;

        @Mixin
        SharedOptions.Columns columns;

        /** The ID column's cells of the rows last read (null without an ID column), and its name. */
        String[] ids;
        String idName;

        @Option(names = "--condition", paramLabel = "CLASS",
                description = "For a conditional model: the class every row is conditioned on (default: the data's own labels,"
                        + " as a Fashion-MNIST folder has, or --condition-labels).")
        Integer condition;

        @Option(names = "--condition-labels", paramLabel = "PATH",
                description = "For a conditional model: the class of each row, from an IDX label file or a CSV of one "
                        + "integer per row"
                        + " (default: none; see --condition).")
        Path conditionLabels;

        @Option(names = "--context", paramLabel = "PATH", description = "For a conditional model conditioned on values rather"
                + " than a class: each row's context vector (as many values as the model's condition), from a .csv or .npy file"
                + " (default: none).")
        Path context;

        /** The model file; a conditional model is taken, its conditions come from {@link #conditions}. */
        LatentModel load() throws java.io.IOException {
            return Models.load(model);
        }

        Dataset rows(LatentModel m) throws java.io.IOException {
            org.latent4j.data.Csv.Table t = columns.read(data, true);
            ids = t.ids();
            idName = t.idName();
            return checkWidth(data, t.data(), m, columns);
        }

        /**
         * The class of each row for a conditional model (--condition, --condition-labels, or the
         * data's labels, in that order), checked against the model's classes; null for a model
         * without conditions (which refuses the options).
         */
        int[] classes(LatentModel m, Dataset d) throws java.io.IOException {
            int width = m instanceof Autoencoder ae ? ae.conditionDim() : 0;
            if (width == 0) {
                if (condition != null || conditionLabels != null || context != null) {
                    throw new IllegalArgumentException((condition != null ? "--condition" : conditionLabels != null
                            ? "--condition-labels" : "--context") + ": " + model + " is not a conditional model");
                }
                return null;
            }
            if (condition != null && conditionLabels != null) {
                throw new IllegalArgumentException("--condition and --condition-labels: give one");
            }
            int[] c;
            String from;
            if (condition != null) {
                c = new int[d.rows()];
                java.util.Arrays.fill(c, condition);
                from = "--condition";
            } else if (conditionLabels != null) {
                c = readLabels(conditionLabels, d.rows());
                from = conditionLabels.toString();
            } else if (d.labels() != null) {
                c = d.labels();
                from = "the labels of " + data;
            } else {
                throw new IllegalArgumentException(model + " is a conditional model (" + width + " condition values per row): give"
                        + " --condition CLASS, --condition-labels FILE or --context FILE (" + data + " has no labels)");
            }
            for (int r = 0; r < c.length; r++) {
                if (c[r] < 0 || c[r] >= width) {
                    throw new IllegalArgumentException(from + (condition != null ? "" : ", row " + r) + ": class " + c[r]
                            + " but the model has " + width + " (0 to " + (width - 1) + ")");
                }
            }
            return c;
        }

        /** The rows' conditions: --context vectors, else the classes one-hot (null for a model without conditions). */
        float[][] conditions(LatentModel m, Dataset d) throws java.io.IOException {
            if (context == null || !(m instanceof Autoencoder ae) || ae.conditionDim() == 0) {
                int[] c = classes(m, d);
                return c == null ? null : oneHot(c, ((Autoencoder) m).conditionDim());
            }
            if (condition != null || conditionLabels != null) {
                throw new IllegalArgumentException("--context with " + (condition != null ? "--condition" : "--condition-labels")
                        + ": give one");
            }
            Dataset v = DataFiles.read(context, false);
            if (v.rows() != d.rows() || v.features() != ae.conditionDim()) {
                throw new IllegalArgumentException(context + " has " + v.rows() + " rows of " + v.features() + " values but "
                        + data + " has " + d.rows() + " rows and " + model + " is conditioned on " + ae.conditionDim()
                        + " values per row");
            }
            return asRows(v);
        }
    }

    /** The rows scaled as a model trained on scaled rows saw them (for the -ELBO, which is in those units). */
    static Dataset scaledCopy(Dataset d, Scaling s) {
        float[][] rows = s.apply(asRows(d));
        float[] flat = new float[d.x().length];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, flat, r * d.features(), d.features());
        }
        return new Dataset(flat, d.rows(), d.features(), d.labels(), d.context(), d.source(), d.droppedRows(), d.sampleShape());
    }

    static float[][] oneHot(int[] classes, int width) {
        float[][] c = new float[classes.length][width];
        for (int r = 0; r < classes.length; r++) {
            c[r][classes[r]] = 1f;
        }
        return c;
    }

    /**
     * A model file for the commands that feed it rows alone (calibrate; score refuses the same
     * way): a conditional model is refused in one line that says what takes it instead.
     */
    static LatentModel load(Path file) throws java.io.IOException {
        LatentModel m = Models.load(file);
        refuseConditional(m, file);
        return m;
    }

    static void refuseConditional(LatentModel m, Path file) {
        if (m instanceof Autoencoder ae && ae.spec().isConditional()) {
            throw new IllegalArgumentException(file + " is a conditional model (" + ae.conditionDim() + " condition values per row);"
                    + " anomaly scores do not take conditions yet (encode, reconstruct, denoise, interpolate, eval and sample do,"
                    + " with --condition)");
        }
    }

    static Dataset rows(Path data, LatentModel m, SharedOptions.Columns columns) throws java.io.IOException {
        return checkWidth(data, columns.read(data, true).data(), m, columns);
    }

    static Dataset checkWidth(Path data, Dataset d, LatentModel m, SharedOptions.Columns columns) {
        if (d.features() != m.inputDim()) {
            boolean more = d.features() > m.inputDim();
            throw new IllegalArgumentException(data + " has " + d.features() + " features per row but the model takes " + m.inputDim()
                    + (more && data.toString().toLowerCase(Locale.ROOT).endsWith(".csv")
                    ? " (leave the columns the model was not trained on out with --label-column and --id-column"
                            + (columns != null && (columns.label != null || columns.id != null) ? ", as in training" : "") + ")" : ""));
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

    /**
     * The one-channel image shape to draw rows as: the model's (a convolutional model's input
     * shape, or the shape of the images a model on features was trained on, recorded in its
     * file), else the data's (IDX images carry theirs); null when neither is an image of one
     * channel: no picture is drawn then.
     */
    static Shape pictureShape(LatentModel m, Dataset d) {
        Shape s = m instanceof Autoencoder ae && ae.imageShape() != null ? ae.imageShape()
                : d != null && d.sampleShape() != null ? d.sampleShape() : null;
        return s != null && s.channels() == 1 && s.size() == m.inputDim() ? s : null;
    }

    static void maybePicture(Path out, float[][] images, Shape shape) throws java.io.IOException {
        if (images.length > 0 && shape != null) {
            Path png = pngBeside(out);
            float[][] first = java.util.Arrays.copyOf(images, Math.min(images.length, 64));
            Pictures.imageGrid(png, first, 8, shape.width(), shape.height(), 3);
            System.out.println("wrote " + png);
        }
    }

    /** The PNG path beside a CSV output: x.csv gives x.png. */
    static Path pngBeside(Path out) {
        return out.resolveSibling(out.getFileName().toString().replaceFirst("\\.csv$", "") + ".png");
    }

    /** For one-channel images: a PNG beside the CSV with up to 32 inputs, each row of 8 above its 8 outputs. */
    static void maybeBeforeAfterPicture(Path out, float[][] inputs, float[][] outputs, Shape shape) throws java.io.IOException {
        if (inputs.length > 0 && shape != null) {
            int cols = 8, n = Math.min(inputs.length, 32);
            java.util.List<float[]> grid = new java.util.ArrayList<>();
            for (int start = 0; start < n; start += cols) {
                int end = Math.min(n, start + cols);
                for (float[][] part : new float[][][] {inputs, outputs}) {
                    for (int c = start; c < start + cols; c++) {
                        grid.add(c < end ? part[c] : new float[shape.size()]);
                    }
                }
            }
            Path png = pngBeside(out);
            Pictures.imageGrid(png, grid.toArray(new float[0][]), cols, shape.width(), shape.height(), 3);
            System.out.println("wrote " + png + " (inputs above their outputs)");
        }
    }

    /** A 0-based row number given by {@code option}, checked against the data's rows. */
    static int rowIndex(String option, int row, Dataset d, Path data) {
        if (row < 0 || row >= d.rows()) {
            throw new IllegalArgumentException(option + " " + row + ": " + data + " has " + d.rows() + " rows (0 to " + (d.rows() - 1) + ")");
        }
        return row;
    }

    /** Labels from an IDX label file (*idx1-ubyte*) or a CSV of one integer per line. */
    static int[] readLabels(Path file, int rows) throws java.io.IOException {
        int[] labels;
        if (file.getFileName().toString().contains("idx1-ubyte")) {
            labels = Idx.readLabels(file);
        } else {
            Dataset l = Csv.read(file);
            if (l.features() != 1) {
                throw new IllegalArgumentException(file + ": a labels file holds one integer per line, not " + l.features() + " columns");
            }
            labels = new int[l.rows()];
            for (int i = 0; i < labels.length; i++) {
                float v = l.x()[i];
                if (v != Math.rint(v) || Math.abs(v) > 1e6) {
                    throw new IllegalArgumentException(file + ": line " + (i + 1) + " holds " + v + ", not a whole number label");
                }
                labels[i] = (int) v;
            }
        }
        if (labels.length != rows) {
            throw new IllegalArgumentException(file + " has " + labels.length + " labels but the data has " + rows + " rows");
        }
        return labels;
    }

    /** Which rows are anomalies, for ROC-AUC / PR-AUC (score) and the best-F1 threshold (calibrate). */
    static final class Truth {
        @Option(names = "--truth", paramLabel = "PATH", description = "Which rows are anomalies: 1 (anomalous) or 0 (normal)"
                + " per row, from an IDX label file or a CSV of one integer per row (default: unknown; no ROC-AUC).")
        Path truth;

        @Option(names = "--anomalous-classes", split = ",", paramLabel = "CLASS", description = "Which rows are anomalies: those"
                + " whose own label (as a Fashion-MNIST folder has) is one of these classes, e.g. 8 or 5,7,9 (default: none).")
        int[] anomalousClasses;

        boolean given() {
            return truth != null || anomalousClasses != null;
        }

        /** True for each anomalous row of {@code d} (read from {@code data}); both kinds must be there. */
        boolean[] of(Path data, Dataset d) throws java.io.IOException {
            if (truth != null && anomalousClasses != null) {
                throw new IllegalArgumentException("--truth and --anomalous-classes: give one");
            }
            boolean[] a = new boolean[d.rows()];
            String from;
            if (truth != null) {
                int[] t = readLabels(truth, d.rows());
                for (int r = 0; r < t.length; r++) {
                    if (t[r] != 0 && t[r] != 1) {
                        throw new IllegalArgumentException(truth + ", row " + r + ": " + t[r] + " is not 1 (anomalous) or 0 (normal)");
                    }
                    a[r] = t[r] == 1;
                }
                from = truth.toString();
            } else {
                if (d.labels() == null) {
                    throw new IllegalArgumentException("--anomalous-classes picks rows by their labels, but " + data
                            + " has none; give --truth FILE (1 or 0 per row)");
                }
                java.util.Set<Integer> classes = new java.util.HashSet<>();
                for (int c : anomalousClasses) {
                    classes.add(c);
                }
                for (int r = 0; r < a.length; r++) {
                    a[r] = classes.contains(d.labels()[r]);
                }
                from = "--anomalous-classes " + java.util.Arrays.toString(anomalousClasses).replaceAll("[\\[\\] ]", "");
            }
            int anomalies = 0;
            for (boolean b : a) {
                anomalies += b ? 1 : 0;
            }
            if (anomalies == 0 || anomalies == a.length) {
                throw new IllegalArgumentException(from + " marks " + (anomalies == 0 ? "no" : "every") + " row of " + data
                        + " (" + a.length + " rows) as anomalous; ROC-AUC, PR-AUC and F1 need both anomalous and normal rows");
            }
            return a;
        }
    }

    /** The rows not marked anomalous. */
    static float[][] normalRows(float[][] x, boolean[] anomalous) {
        java.util.List<float[]> n = new java.util.ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            if (!anomalous[i]) {
                n.add(x[i]);
            }
        }
        return n.toArray(new float[0][]);
    }

    /** "ROC-AUC a, PR-AUC p (n anomalies among m rows)", and precision / recall / F1 at the threshold when there is one. */
    static String quality(double[] scores, boolean[] anomalous, double threshold) {
        int n = 0, tp = 0, flagged = 0;
        for (int i = 0; i < scores.length; i++) {
            n += anomalous[i] ? 1 : 0;
            boolean bad = scores[i] > threshold;
            flagged += bad ? 1 : 0;
            tp += bad && anomalous[i] ? 1 : 0;
        }
        String s = String.format(Locale.ROOT, "ROC-AUC %.4f, PR-AUC %.4f (%d anomalies among %d rows)",
                Metrics.rocAuc(scores, anomalous), Metrics.averagePrecision(scores, anomalous), n, scores.length);
        if (!Double.isNaN(threshold)) {
            double precision = flagged == 0 ? 0 : (double) tp / flagged, recall = (double) tp / n;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            s += String.format(Locale.ROOT, "; at the threshold %.6g: precision %.4f, recall %.4f, F1 %.4f", threshold, precision,
                    recall, f1);
        }
        return s;
    }

    @Command(name = "eval", description = "Mean -ELBO (reconstruction + KL) per row of a data set, one z sample per row "
            + "(a PCA or PPCA: the squared error), for a VAE the KL of each latent dimension and the active units, the "
            + "reconstructions' MSE, RMSE, MAE and PSNR, the compression ratio (input floats per latent float) and, for one-channel images "
            + "images, the mean SSIM of the reconstructions.")
    static final class Eval implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Mixin
        SharedOptions.Seed seed;

        @Mixin
        SharedOptions.Threads threads;

        @Option(names = "--eval-samples", paramLabel = "K", defaultValue = "" + org.latent4j.model.HelmholtzMachine.SCORE_SAMPLES,
                description = "For a Helmholtz machine: importance samples per row of the -log p(x) estimate. Default: ${DEFAULT-VALUE}.")
        int evalSamples;

        @Override
        public Integer call() throws Exception {
            LatentModel m = io.load();
            Dataset d = io.rows(m);
            if (m instanceof org.latent4j.model.HelmholtzMachine hm) {
                return helmholtz(hm, d);
            }
            if (m instanceof Autoencoder ae) {
                float[][] x = asRows(d), c = io.conditions(m, d);
                Dataset inModelUnits = ae.inputScaling().isNone() ? d : scaledCopy(d, ae.inputScaling());
                Dataset labelled = c == null ? inModelUnits : inModelUnits.withContext(c);   // the conditions as the evaluation's context
                try (Parallelism par = Parallelism.of(threads.resolve())) {
                    Trainer.Evaluation r = Trainer.evaluation(ae.graph(), ae.parameters(), labelled, 256, seed.seed, par);
                    String latent = "";
                    if (ae.spec().isVariational()) {
                        StringBuilder kl = new StringBuilder();
                        for (double v : r.klPerDimension()) {
                            kl.append(kl.isEmpty() ? "" : ",").append(String.format(Locale.ROOT, "%.4f", v));
                        }
                        latent = ",\"kl_per_dimension\":[" + kl + "],\"active_units\":" + r.activeUnits();
                    }
                    if (DiscreteCodes.has(m)) {
                        DiscreteCodes dc = DiscreteCodes.of(m);
                        org.latent4j.model.PixelCnnPrior prior = VqCommands.savedPrior(org.latent4j.io.SafeTensors.read(io.model), io.model, dc);
                        if (prior != null) {   // the exact bits of the data's code indices under the saved PixelCNN prior
                            latent += String.format(Locale.ROOT, ",\"pixelcnn_bits_per_image\":%.4f", prior.meanBits(dc.encodeIndices(x), par));
                        }
                    }
                    System.out.printf(Locale.ROOT, "{\"rows\":%d,\"neg_elbo\":%.4f,\"reconstruction\":%.4f,\"kl\":%.4f%s%s}%n", d.rows(),
                            r.reconstruction() + r.kl(), r.reconstruction(), r.kl(), latent,
                            sizeAndImageMetrics(m, x, c == null ? m.reconstruct(x) : ae.reconstruct(x, c), pictureShape(m, d)));
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
            System.out.printf(Locale.ROOT, "{\"rows\":%d,\"kind\":\"%s\",\"squared_error\":%.4f%s%s}%n", d.rows(), m.kind(), se / d.rows(), extra,
                    sizeAndImageMetrics(m, x, m.reconstruct(x), pictureShape(m, d)));
            return 0;
        }

        /**
         * A Helmholtz machine: the rows binarized as its trainer binarizes validation rows (x ~ Bernoulli(value) from the
         * seed's fixed stream; binary rows are unchanged), then the mean K-sample importance-sampled -log p(x) and the mean
         * -ELBO (the bound's negative) per row, in nats, with the reconstructions' metrics.
         */
        private int helmholtz(org.latent4j.model.HelmholtzMachine hm, Dataset d) {
            if (evalSamples < 1 || evalSamples > org.latent4j.model.HelmholtzMachine.MAX_SAMPLES) {
                throw new IllegalArgumentException("--eval-samples " + evalSamples + ": importance samples per row must be from 1 to "
                        + org.latent4j.model.HelmholtzMachine.MAX_SAMPLES);
            }
            float[] x = org.latent4j.train.HelmholtzTrainer.binarizedChecked(d, seed.seed);
            org.latent4j.model.HelmholtzMachine.Estimate e;
            try (Parallelism par = Parallelism.of(threads.resolve())) {
                e = hm.logLikelihood(x, d.rows(), evalSamples, seed.seed + org.latent4j.train.HelmholtzTrainer.EVALUATION_SEED_OFFSET, par);
            }
            float[][] rows = new float[d.rows()][];
            for (int r = 0; r < rows.length; r++) {
                rows[r] = java.util.Arrays.copyOfRange(x, r * d.features(), (r + 1) * d.features());
            }
            System.out.printf(Locale.ROOT, "{\"rows\":%d,\"kind\":\"helmholtz\",\"neg_log_likelihood\":%.4f,\"samples\":%d,\"neg_elbo\":%.4f%s}%n",
                    d.rows(), -e.meanLogLikelihood(), evalSamples, -e.meanBound(), sizeAndImageMetrics(hm, rows, hm.reconstruct(rows),
                            pictureShape(hm, d)));
            return 0;
        }

        /**
         * The reconstructions' errors (MSE, RMSE, MAE per value; PSNR in dB with peak 1 when the data lie in [0, 1], else
         * the data's range), the compression ratio, and for one-channel images the mean SSIM (pixels in [0, 1]), as JSON fields.
         */
        static String sizeAndImageMetrics(LatentModel m, float[][] x, float[][] reconstructions, Shape image) {
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
            for (float[] row : x) {
                for (float v : row) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            double peak = lo >= 0 && hi <= 1 ? 1 : hi - lo;
            String s = String.format(Locale.ROOT, ",\"mse\":%.6g,\"rmse\":%.6g,\"mae\":%.6g,\"psnr\":%.4f,\"compression_ratio\":%.4f",
                    Metrics.mse(x, reconstructions), Metrics.rmse(x, reconstructions), Metrics.mae(x, reconstructions),
                    Metrics.psnr(x, reconstructions, peak), Metrics.compressionRatio(m.inputDim(), m.latentDim()));
            if (image != null) {
                s += String.format(Locale.ROOT, ",\"ssim\":%.4f", Metrics.meanSsim(x, reconstructions, image.width(), image.height(), 1.0));
            }
            if (DiscreteCodes.has(m)) {
                DiscreteCodes dc = DiscreteCodes.of(m);
                s += String.format(Locale.ROOT, ",\"code_positions\":%d,\"codes\":%d,\"bits_per_image\":%.4f", dc.positions(), dc.codes(),
                        dc.bitsPerImage());
            }
            return s;
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

        @Option(names = "--indices", description = "For a VQ-VAE or FSQ model: the code index of each grid position (raster"
                + " order) instead of the quantized vectors.")
        boolean indices;

        @Option(names = "--scatter", paramLabel = "FILE.png", description = "Also draw the codes as a 2-D scatter coloured "
                + "by label (the codes of a 2-d latent, else their first two principal components). Default: no picture.")
        Path scatter;

        @Option(names = "--labels", paramLabel = "PATH", description = "Labels for --scatter: an IDX label file or a CSV "
                + "of one integer per row (default: the data's own, as a Fashion-MNIST folder has).")
        Path labels;

        @Override
        public Integer call() throws Exception {
            if (labels != null && scatter == null) {
                throw new IllegalArgumentException("--labels colours the --scatter picture; give --scatter FILE.png too");
            }
            LatentModel m = io.load();
            Dataset d = io.rows(m);
            if (indices) {
                if (variance || scatter != null) {
                    throw new IllegalArgumentException("--indices writes the code indices alone: leave out --variance and --scatter");
                }
                int[][] idx = DiscreteCodes.of(m).encodeIndices(asRows(d));
                float[][] asFloats = new float[idx.length][];
                for (int r = 0; r < idx.length; r++) {
                    asFloats[r] = new float[idx[r].length];
                    for (int p = 0; p < idx[r].length; p++) {
                        asFloats[r][p] = idx[r][p];
                    }
                }
                Csv.write(out, asFloats);
                System.out.println("wrote " + out + " (" + idx.length + " rows x " + (idx.length == 0 ? 0 : idx[0].length) + " code indices)");
                return 0;
            }
            int[] lab = labels != null ? readLabels(labels, d.rows()) : d.labels();
            float[][] x = asRows(d);
            float[][] c = io.conditions(m, d);
            float[][] z = c == null ? m.encode(x) : ((Autoencoder) m).encode(x, c);
            float[][] means = z.clone();   // the rows of z get the variances appended below
            if (variance) {
                float[][] lv;
                if (m instanceof Autoencoder ae && ae.spec().isVariational()) {
                    lv = c == null ? ae.encodeLogVariance(x) : ae.encodeLogVariance(x, c);
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
            if (scatter != null) {
                LatentProjection.Plane plane = LatentProjection.plane(means);
                String[] names = labels == null && lab != null && java.nio.file.Files.isDirectory(io.data) ? FashionMnist.CLASSES : null;
                Pictures.latentScatter(scatter, "latent codes of " + io.data.getFileName(), plane.xAxis(), plane.yAxis(),
                        plane.points(), lab, names);
                System.out.println("wrote " + scatter + " (" + means.length + " codes: " + plane.how()
                        + (lab == null ? "; no labels, one colour" : "") + ")");
            }
            return 0;
        }
    }

    @Command(name = "reconstruct", description = "Reconstructions (decoder means through the latent mean) of each row, as "
            + "CSV (and PNG for one-channel images: the model's input shape or the data's).")
    static final class Reconstruct implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Override
        public Integer call() throws Exception {
            LatentModel m = io.load();
            Dataset d = io.rows(m);
            float[][] c = io.conditions(m, d);
            float[][] r = c == null ? m.reconstruct(asRows(d)) : ((Autoencoder) m).reconstruct(asRows(d), c);
            Csv.write(out, r);
            System.out.println("wrote " + out + " (" + r.length + " rows)");
            maybePicture(out, r, pictureShape(m, d));
            return 0;
        }
    }

    @Command(name = "denoise", description = "Denoised rows as CSV: the reconstruction of possibly corrupted inputs (the "
            + "decoder mean of the latent mean; a denoising autoencoder's training corruption is never applied here). For "
            + "one-channel images also a PNG of the inputs above their denoised rows.")
    static final class Denoise implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Override
        public Integer call() throws Exception {
            LatentModel m = io.load();
            Dataset d = io.rows(m);
            float[][] x = asRows(d), c = io.conditions(m, d);
            float[][] r = c == null ? m.denoise(x) : ((Autoencoder) m).denoise(x, c);
            Csv.write(out, r);
            System.out.println("wrote " + out + " (" + r.length + " rows)");
            maybeBeforeAfterPicture(out, x, r, pictureShape(m, d));
            return 0;
        }
    }

    @Command(name = "interpolate", description = "Decoded points on the way from one row's latent code to another's "
            + "(both ends included), as CSV, one strip of --steps rows after another; for one-channel images also a PNG with one "
            + "strip per line.")
    static final class Interpolate implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Option(names = "--from", required = true, split = ",", paramLabel = "ROW",
                description = "Row to start from (0-based); several, comma-separated, for several strips.")
        int[] from;

        @Option(names = "--to", required = true, split = ",", paramLabel = "ROW", description = "Row to end at (0-based), "
                + "one per --from row.")
        int[] to;

        @Option(names = "--steps", defaultValue = "10", description = "Points per strip, both ends included (default: "
                + "${DEFAULT-VALUE}).")
        int steps;

        @Option(names = "--spherical", description = "Along the great circle between the codes (slerp) instead of the "
                + "straight line.")
        boolean spherical;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (from.length != to.length) {
                throw new IllegalArgumentException("--from gives " + from.length + " rows but --to gives " + to.length + "; give one --to row per --from row");
            }
            if (steps < 2) {
                throw new IllegalArgumentException("--steps must be at least 2 (both ends), got " + steps);
            }
            LatentModel m = io.load();
            Dataset d = io.rows(m);
            float[][] c = io.conditions(m, d);
            LatentModel.Interpolation how = spherical ? LatentModel.Interpolation.SPHERICAL : LatentModel.Interpolation.LINEAR;
            float[][][] strips = new float[from.length][][];
            for (int k = 0; k < from.length; k++) {
                int a = rowIndex("--from", from[k], d, io.data), b = rowIndex("--to", to[k], d, io.data);
                // A conditional model: both codes and the whole strip under the --from row's condition.
                if (DiscreteCodes.has(m)) {
                    if (spherical) {
                        throw new IllegalArgumentException("--spherical: a VQ-VAE or FSQ model interpolates its encoder outputs linearly"
                                + " (quantized at each step)");
                    }
                    strips[k] = DiscreteCodes.of(m).interpolate(d.row(a), d.row(b), steps);
                    continue;
                }
                strips[k] = c == null ? m.interpolate(d.row(a), d.row(b), steps, how)
                        : ((Autoencoder) m).interpolate(d.row(a), d.row(b), steps, how, c[a]);
            }
            float[][] rows = new float[from.length * steps][];
            for (int k = 0; k < strips.length; k++) {
                System.arraycopy(strips[k], 0, rows, k * steps, steps);
            }
            Csv.write(out, rows);
            System.out.println("wrote " + out + " (" + strips.length + " strip" + (strips.length == 1 ? "" : "s") + " of " + steps
                    + " rows, " + how.name().toLowerCase(Locale.ROOT) + ")");
            Shape image = pictureShape(m, d);
            if (image != null) {
                Path png = pngBeside(out);
                Pictures.interpolationStrip(png, strips, image.width(), image.height(), 3);
                System.out.println("wrote " + png);
            }
            return 0;
        }
    }

    @Command(name = "score", description = "Anomaly score of each row as CSV (higher = more anomalous), and the verdict "
            + "(1 = anomalous) when a threshold is known. Default: the squared reconstruction error summed over the "
            + "features, or the detector saved in the model file (see calibrate). With --truth or --anomalous-classes "
            + "it also reports ROC-AUC and PR-AUC (and precision, recall and F1 at the threshold).")
    static final class Score implements Callable<Integer> {
        @Mixin
        ModelAndData io;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Option(names = "--method", paramLabel = "METHOD",
                description = "mse, mae, nll (-log p(x|z), L samples), elbo (-ELBO, L samples) or iwae (-log p(x), K samples)."
                        + " Default: the detector's saved in the model file, else the squared reconstruction error.")
        String method;

        @Mixin
        SharedOptions.Samples samples;

        @Mixin
        SharedOptions.Seed seed;

        @Option(names = "--threshold", description = "Flag rows scoring above this (default: the detector's, if the file "
                + "has one).")
        Double threshold;

        @Option(names = "--contributions", paramLabel = "FILE.csv", description = "Also write each feature's part of each "
                + "row's score (default: not written).")
        Path contributions;

        @Mixin
        Truth truth;

        @Override
        public Integer call() throws Exception {
            // One read of the file: the model, and the detector saved with it if there is one.
            org.latent4j.io.SafeTensors.Contents c = org.latent4j.io.SafeTensors.read(io.model);
            LatentModel m = Models.from(c, io.model);
            refuseConditional(m, io.model);
            Dataset data = io.rows(m);
            io.classes(m, data);   // refuses --condition for a model without conditions
            float[][] x = asRows(data);
            boolean[] anomalous = truth.given() ? truth.of(io.data, data) : null;   // checked before any scoring
            AnomalyDetector saved = AnomalyDetector.from(c, io.model);
            // --method picks another score; the input scaling saved with a detector stays (its model expects it).
            AnomalyDetector d = method == null ? saved
                    : detector(m, method, samples.samples, seed.seed).withScaling(saved == null ? Scaling.none() : saved.scaling());
            double[] sc = RowProgress.scoreRows("scoring", x, d == null ? m::score : d::score);
            double t = threshold != null ? threshold : d == null ? Double.NaN : d.threshold();
            float[][] rows = new float[sc.length][];
            int flagged = 0;
            for (int i = 0; i < sc.length; i++) {
                boolean bad = sc[i] > t;
                flagged += bad ? 1 : 0;
                rows[i] = Double.isNaN(t) ? new float[] {(float) sc[i]} : new float[] {(float) sc[i], bad ? 1 : 0};
            }
            if (io.ids != null) {
                writeWithIds(out, io.idName, io.ids, Double.isNaN(t) ? new String[] {"score"} : new String[] {"score", "anomalous"}, rows);
            } else {
                Csv.write(out, rows);
            }
            if (contributions != null) {
                if (d == null) {
                    d = AnomalyDetector.of(m, AnomalyDetector.Score.MSE, 1, seed.seed);
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
            if (anomalous != null) {
                System.out.println(quality(sc, anomalous, t));
            }
            return 0;
        }
    }

    /** A CSV with a header line: the ID column, then the values of each row. */
    static void writeWithIds(Path out, String idName, String[] ids, String[] names, float[][] rows) throws java.io.IOException {
        StringBuilder sb = new StringBuilder(Csv.quote(idName));
        for (String n : names) {
            sb.append(',').append(n);
        }
        sb.append('\n');
        for (int i = 0; i < rows.length; i++) {
            sb.append(Csv.quote(ids[i]));
            for (float v : rows[i]) {
                sb.append(',').append(v);
            }
            sb.append('\n');
        }
        org.latent4j.io.AtomicFiles.write(out, tmp -> java.nio.file.Files.writeString(tmp, sb));
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

    @Command(name = "calibrate", description = "Makes an anomaly detector: scores held-out normal rows, sets the "
            + "threshold by a rule, and saves the model, the score and the threshold as one model file (for score).")
    static final class Calibrate implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "FILE")
        Path model;

        @Option(names = "--normal", paramLabel = "PATH", description = "Normal rows held out from training (every rule "
                + "but best-f1; default: none).")
        Path normal;

        @Option(names = "--data", paramLabel = "PATH", description = "For --rule best-f1: held-out rows, normal and anomalous,"
                + " with --truth or --anomalous-classes saying which are which (default: none).")
        Path data;

        @Mixin
        Truth truth;

        @Option(names = "--method", defaultValue = "mse", description = "mse, mae, nll, elbo or iwae (default: "
                + "${DEFAULT-VALUE}).")
        String method;

        @Mixin
        SharedOptions.Samples samples;

        @Mixin
        SharedOptions.Seed seed;

        @Option(names = "--rule", defaultValue = "percentile:99",
                description = "percentile:P, max, contamination:RATE, iqr:K, mad:K, or best-f1 (the threshold with the best"
                        + " F1 on labelled rows: --data with --truth or --anomalous-classes) (default: ${DEFAULT-VALUE}).")
        String rule;

        @Option(names = "--scale", defaultValue = "none", paramLabel = "SCALING", description = "none, minmax or "
                + "standard: an input "
                + "scaling applied before the model in every score, saved in the detector file, for a model trained on rows "
                + "scaled this way (default: ${DEFAULT-VALUE}).")
        String scale;

        @Option(names = "--scale-from", paramLabel = "PATH",
                description = "The unscaled rows the model was trained on, to fit --scale on (default: the --normal rows, or the"
                        + " normal ones of --data).")
        Path scaleFrom;

        @Option(names = "--out", required = true, paramLabel = "FILE.safetensors")
        Path out;

        @Mixin
        SharedOptions.Columns columns;

        @Override
        public Integer call() throws Exception {
            String how = scale.toLowerCase(java.util.Locale.ROOT);
            if (!how.equals("none") && !how.equals("minmax") && !how.equals("standard")) {
                throw new IllegalArgumentException("--scale " + scale + ": expected none, minmax or standard");
            }
            if (scaleFrom != null && how.equals("none")) {
                throw new IllegalArgumentException("--scale-from gives the rows to fit a scaling on; say which with --scale minmax or standard");
            }
            boolean bestF1 = rule.equalsIgnoreCase("best-f1");
            if (bestF1 && (data == null || !truth.given() || normal != null)) {
                throw new IllegalArgumentException("--rule best-f1 sets the threshold on labelled rows: give --data PATH with --truth"
                        + " FILE or --anomalous-classes LIST" + (normal != null ? " (not --normal)" : ""));
            }
            if (!bestF1 && (normal == null || data != null || truth.given())) {
                throw new IllegalArgumentException("--rule " + rule + " sets the threshold on normal rows: give --normal PATH"
                        + (data != null || truth.given() ? " (--data, --truth and --anomalous-classes go with --rule best-f1)" : ""));
            }
            LatentModel m = load(model);
            Dataset held = rows(bestF1 ? data : normal, m, columns);
            boolean[] anomalous = bestF1 ? truth.of(data, held) : null;
            float[][] x = asRows(held);
            float[][] fit = scaleFrom != null ? asRows(rows(scaleFrom, m, columns)) : bestF1 ? normalRows(x, anomalous) : x;
            Scaling scaling = switch (how) {
                case "minmax" -> Scaling.minMax(fit);
                case "standard" -> Scaling.standardize(fit);
                default -> Scaling.none();
            };
            AnomalyDetector d = detector(m, method, samples.samples, seed.seed).withScaling(scaling);
            if (bestF1) {
                double[] s = RowProgress.scoreRows("calibrating", x, d::score);   // once: the threshold and the report both read these
                d = d.withThreshold(AnomalyDetector.bestF1Threshold(s, anomalous));
                d.save(out);
                System.out.printf(java.util.Locale.ROOT, "threshold %.6g (%s, best F1 on %s%s); %s; wrote %s%n", d.threshold(), method,
                        data, scaling.isNone() ? "" : ", " + scaling, quality(s, anomalous, d.threshold()), out);
                return 0;
            }
            String[] r = rule.split(":");
            AnomalyDetector.Rule kind;
            try {
                kind = AnomalyDetector.Rule.valueOf(r[0].toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--rule " + rule + ": expected percentile:P, max, contamination:RATE, iqr:K, mad:K"
                        + " or best-f1");
            }
            double param = r.length > 1 ? Double.parseDouble(r[1]) : kind == AnomalyDetector.Rule.IQR ? 1.5 : 3;
            double[] s = RowProgress.scoreRows("calibrating", x, d::score);   // once: the threshold and the count above it both read these
            d = d.withThreshold(AnomalyDetector.threshold(s, kind, param));
            d.save(out);
            int flagged = 0;
            for (double v : s) {
                flagged += v > d.threshold() ? 1 : 0;   // the detector's verdict (isAnomalous)
            }
            System.out.printf(java.util.Locale.ROOT, "threshold %.6g (%s, %s%s): %d of %d normal rows above it; wrote %s%n",
                    d.threshold(), method, rule, scaling.isNone() ? "" : ", " + scaling, flagged, x.length, out);
            return 0;
        }
    }

    @Command(name = "sample", description = "Draws from the model (decoded prior samples), as CSV (and PNG for one-channel images).")
    static final class Sample implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "FILE")
        Path model;

        @Option(names = {"-n", "--count"}, defaultValue = "64", description = "How many samples (default: ${DEFAULT-VALUE}).")
        int count;

        @Mixin
        SharedOptions.Seed seed;

        @Option(names = "--out", required = true, paramLabel = "FILE.csv")
        Path out;

        @Option(names = "--condition", paramLabel = "CLASS", description = "For a conditional model: the class to draw "
                + "(required there; default: none).")
        Integer condition;

        @Option(names = "--prior-data", paramLabel = "PATH", description = "For a VQ-VAE or FSQ model: the rows whose codes the prior"
                + " over code indices is fitted on, e.g. the training data (default: the bundled Fashion-MNIST training slice for a"
                + " model of 784 inputs).")
        Path priorData;

        @Option(names = "--prior", paramLabel = "KIND", description = "For a VQ-VAE or FSQ model: pixelcnn (the PixelCNN prior"
                + " saved in the model file by fit-prior), markov (autoregressive over the code grid in raster order, first order,"
                + " fitted on --prior-data) or categorical (each position alone, fitted on --prior-data); default pixelcnn when the"
                + " file holds one, else markov.")
        String prior;

        @Override
        public Integer call() throws Exception {
            if (count <= 0) {
                throw new IllegalArgumentException("--count must be positive, got " + count);
            }
            org.latent4j.io.SafeTensors.Contents contents = org.latent4j.io.SafeTensors.read(model);
            LatentModel m = Models.from(contents, model);
            int width = m instanceof Autoencoder ae ? ae.conditionDim() : 0;
            if (width == 0 && condition != null) {
                throw new IllegalArgumentException("--condition: " + model + " is not a conditional model");
            }
            if (width > 0 && (condition == null || condition < 0 || condition >= width)) {
                throw new IllegalArgumentException(model + " is a conditional model: give --condition CLASS, 0 to " + (width - 1)
                        + (condition == null ? "" : " (not " + condition + ")"));
            }
            float[][] s;
            if (DiscreteCodes.has(m)) {
                s = discreteSamples(m, contents);
            } else {
                if (priorData != null) {
                    throw new IllegalArgumentException("--prior-data: " + model + " has a N(0, I) prior, not one over code indices");
                }
                s = width == 0 ? m.sample(count, seed.seed) : ((Autoencoder) m).sample(count, seed.seed, oneHot(new int[] {condition}, width)[0]);
            }
            Csv.write(out, s);
            System.out.println("wrote " + out + " (" + s.length + " samples)");
            maybePicture(out, s, pictureShape(m, null));
            return 0;
        }

        /** Index grids drawn from a prior fitted on the codes of --prior-data's rows, decoded. */
        private float[][] discreteSamples(LatentModel m, org.latent4j.io.SafeTensors.Contents contents) throws java.io.IOException {
            DiscreteCodes codes = DiscreteCodes.of(m);
            org.latent4j.model.PixelCnnPrior saved = VqCommands.savedPrior(contents, model, codes);
            String k = prior != null ? prior.toLowerCase(Locale.ROOT) : saved != null ? "pixelcnn" : "markov";
            if (k.equals("pixelcnn")) {
                if (saved == null) {
                    throw new IllegalArgumentException("--prior pixelcnn: " + model + " holds no PixelCNN prior (train one with fit-prior --model "
                            + model + " --data TRAIN)");
                }
                if (priorData != null) {
                    throw new IllegalArgumentException("--prior-data: the PixelCNN prior is saved in " + model + "; leave --prior-data out"
                            + " (or give --prior markov or categorical)");
                }
                try (org.latent4j.kernel.Parallelism par = org.latent4j.kernel.Parallelism.of(org.latent4j.kernel.Parallelism.defaultThreads())) {
                    return codes.decodeIndices(saved.sample(count, seed.seed, par));
                }
            }
            CodePrior.Kind kind = switch (k) {
                case "markov" -> CodePrior.Kind.MARKOV;
                case "categorical" -> CodePrior.Kind.CATEGORICAL;
                default -> throw new IllegalArgumentException("--prior " + prior + ": expected pixelcnn, markov or categorical");
            };
            Dataset rows;
            if (priorData != null) {
                rows = checkWidth(priorData, DataFiles.read(priorData, false), m, null);
            } else if (m.inputDim() == 784) {
                rows = FashionMnist.bundledTrain();
            } else {
                throw new IllegalArgumentException(model + " samples from a prior over its code indices: give --prior-data PATH (the"
                        + " training rows, whose codes it is fitted on)");
            }
            DiscreteCodes dc = DiscreteCodes.of(m);
            CodePrior p = CodePrior.fit(kind, dc.encodeIndices(asRows(rows)), dc.positions(), dc.codes());
            return dc.decodeIndices(p.sample(count, seed.seed));
        }
    }
}
