package org.latent4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.latent4j.data.Csv;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.DecoderStage;
import org.latent4j.dsl.EncoderStage;
import org.latent4j.dsl.LatentStage;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.model.Scaling;

/**
 * What {@code train} trains on: the rows (the bundled slice, a Fashion-MNIST folder, or a .csv,
 * .npy or IDX file), the held-out rows (the folder's test set, {@code --validation-data}, or a
 * seeded {@code --validation} split), the input scaling fitted on the training rows, and the
 * model for the common case from flags, with defaults picked from the data.
 */
final class TrainData {
    /** The rows as read (original units), the same scaled for the model, the scaling, and what was chosen, for the log. */
    Dataset train, validation, scaledTrain, scaledValidation;
    Scaling scaling = Scaling.none();
    String likelihood;
    final List<String> log = new ArrayList<>();
    String[] featureNames;
    boolean images;

    /** The kinds of model --kind names. */
    static final List<String> KINDS = List.of("vae", "ae", "denoising");
    static final List<String> LIKELIHOODS = List.of("bernoulli", "gaussian", "gaussian-learned");
    static final List<String> SCALINGS = List.of("standardize", "min-max", "log1p", "none");

    static TrainData read(Path data, SharedOptions.Columns columns, Double fraction, Path validationData, long seed)
            throws IOException {
        TrainData t = new TrainData();
        if (fraction != null && validationData != null) {
            throw new IllegalArgumentException("--validation and --validation-data: give one");
        }
        if (fraction != null && !(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("--validation " + fraction + ": the fraction of rows held out must be above 0 and below 1");
        }
        boolean file = data != null && !Files.isDirectory(data);
        Dataset all;
        if (data == null) {
            if (columns.label != null || columns.id != null) {
                throw new IllegalArgumentException((columns.label != null ? "--label-column" : "--id-column")
                        + " picks a column of a CSV file; give --data FILE.csv");
            }
            all = FashionMnist.bundledTrain();
            t.validation = FashionMnist.bundledTest();
        } else {
            Csv.Table table = columns.read(data, false);
            all = table.data();
            t.featureNames = table.featureNames();
            t.validation = file ? null : FashionMnist.fromDirectory(data, true);
            t.log.add(String.format(Locale.ROOT, "data: %s, %d rows of %d features%s", data, all.rows(), all.features(),
                    leftOut(columns)));
        }
        if (validationData != null) {
            Dataset v = columns.read(validationData, true).data();
            if (v.features() != all.features()) {
                throw new IllegalArgumentException("--validation-data " + validationData + " has " + v.features()
                        + " features per row but " + (data == null ? "the training data" : data) + " has " + all.features());
            }
            t.train = all;
            t.validation = v;
            t.log.add(String.format(Locale.ROOT, "validation: the %d rows of %s", v.rows(), validationData));
        } else if (fraction != null || t.validation == null) {
            double f = fraction != null ? fraction : 0.1;
            Dataset.Split split = all.split(f, seed);
            t.train = split.train();
            t.validation = split.validation();
            t.log.add(String.format(Locale.ROOT, "validation: %d of the %d rows held out (--validation %s%s, a random split by --seed %d),"
                    + " %d to train on", t.validation.rows(), all.rows(), f, fraction == null ? ", the default" : "", seed, t.train.rows()));
        } else {
            t.train = all;
        }
        t.images = t.train.sampleShape() != null;
        return t;
    }

    private static String leftOut(SharedOptions.Columns c) {
        List<String> parts = new ArrayList<>();
        if (c.label != null) {
            parts.add("label column " + c.label);
        }
        if (c.id != null) {
            parts.add("ID column " + c.id);
        }
        return parts.isEmpty() ? "" : " (" + String.join(" and ", parts) + " left out)";
    }

    /** True when every value lies in [0, 1]. */
    static boolean inUnitInterval(Dataset d) {
        for (float v : d.x()) {
            if (!(v >= 0f && v <= 1f)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Picks the likelihood (Bernoulli only when every training value is in [0, 1], else Gaussian)
     * and the scaling (none for data in [0, 1], else standardize) unless given, fits the scaling on
     * the training rows and scales both parts.
     */
    void choose(String likelihoodOption, String likelihoodWhy, String scaleOption) {
        boolean unit = inUnitInterval(train) && inUnitInterval(validation);
        String scale;
        if (scaleOption == null) {
            scale = unit ? "none" : "standardize";
        } else {
            scale = scaleOption.toLowerCase(Locale.ROOT);
            if (!SCALINGS.contains(scale)) {
                throw new IllegalArgumentException("--scale " + scaleOption + ": expected standardize, min-max, log1p or none");
            }
        }
        if (likelihoodOption == null) {
            likelihood = unit ? "bernoulli" : "gaussian";
        } else {
            likelihood = likelihoodOption.toLowerCase(Locale.ROOT);
            if (!LIKELIHOODS.contains(likelihood)) {
                throw new IllegalArgumentException("--likelihood " + likelihoodOption + ": expected bernoulli, gaussian or gaussian-learned");
            }
        }
        if (!scale.equals("none")) {
            checkNotConstant(scale);
        }
        float[][] rows = UseCommands.asRows(train);
        try {
            scaling = switch (scale) {
                case "standardize" -> Scaling.standardize(rows);
                case "min-max" -> Scaling.minMax(rows);
                case "log1p" -> Scaling.log1p(rows);
                default -> Scaling.none();
            };
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(train.source() + ": --scale " + scale + ": " + e.getMessage()
                    .replaceFirst("^log1p: ", "").replaceFirst("row (\\d+)", "training row $1"), e);
        }
        scaledTrain = scaled(train);
        scaledValidation = scaled(validation);
        if (likelihood.equals("bernoulli")) {
            for (Dataset d : List.of(scaledTrain, scaledValidation)) {
                for (int i = 0; i < d.x().length; i++) {
                    float v = d.x()[i];
                    if (!(v >= 0f && v <= 1f)) {
                        throw new IllegalArgumentException("--likelihood bernoulli needs every value in [0, 1]" + (scaling.isNone() ? ""
                                : " after the " + scale + " scaling") + ", but " + feature(i % d.features()) + " of "
                                + d.source().replaceFirst(" \\((training|validation) part\\)$", "") + " holds " + v
                                + "; use --likelihood gaussian"
                                + (scaling.isNone() ? " or --scale min-max" : ""));
                    }
                }
            }
        }
        log.add(String.format(Locale.ROOT, "%s likelihood%s, %s", likelihood.equals("bernoulli") ? "Bernoulli"
                        : likelihood.equals("gaussian") ? "Gaussian (unit variance)" : "Gaussian with a learned variance per feature",
                likelihoodOption != null ? " (" + likelihoodWhy + ")" : unit ? " (every value is in [0, 1])" : " (values outside [0, 1])",
                scaling.isNone() ? "no input scaling" + (scaleOption != null ? " (--scale none)" : unit ? " (values in [0, 1])" : "")
                        : scale + " input scaling" + (scaleOption == null ? " (the default for values outside [0, 1])" : "")
                                + " fitted on the " + train.rows() + " training rows, saved in the model file"));
    }

    private void checkNotConstant(String scale) {
        int d = train.features();
        float[] x = train.x();
        for (int j = 0; j < d; j++) {
            float lo = x[j], hi = x[j];
            for (int r = 1; r < train.rows(); r++) {
                lo = Math.min(lo, x[r * d + j]);
                hi = Math.max(hi, x[r * d + j]);
            }
            if (lo == hi) {
                throw new IllegalArgumentException(train.source() + ": " + feature(j) + " holds " + lo + " in every training row;"
                        + " --scale " + scale + " would divide by zero: leave the column out, or give --scale none");
            }
        }
    }

    /** "column 'amount'" with a header, else "feature 3 (0-based)". */
    String feature(int j) {
        return featureNames != null ? "column '" + featureNames[j] + "'" : "feature " + j + " (0-based)";
    }

    private Dataset scaled(Dataset d) {
        if (scaling.isNone()) {
            return d;
        }
        float[][] s = scaling.apply(UseCommands.asRows(d));
        float[] flat = new float[d.x().length];
        for (int r = 0; r < s.length; r++) {
            System.arraycopy(s[r], 0, flat, r * d.features(), d.features());
        }
        return new Dataset(flat, d.rows(), d.features(), d.labels(), d.context(), d.source(), d.droppedRows(), d.sampleShape());
    }

    /**
     * The model of the common case: the encoder's dense ReLU layers, a Gaussian latent (vae) or a
     * plain code (ae, denoising: with input noise in training, masking 0.3 for a Bernoulli
     * likelihood, Gaussian 0.3 otherwise), the decoder mirroring the encoder, and the likelihood.
     */
    static ModelSpec fromFlags(int features, int[] layers, int latent, String kind, String likelihood) {
        String k = kind.toLowerCase(Locale.ROOT);
        if (!KINDS.contains(k)) {
            throw new IllegalArgumentException("--kind " + kind + ": expected vae, ae or denoising");
        }
        for (int u : layers) {
            if (u <= 0) {
                throw new IllegalArgumentException("--layers: every layer needs at least 1 unit, got " + u);
            }
        }
        EncoderStage e = Model.encoder(features);
        if (k.equals("denoising")) {
            e = likelihood.equals("bernoulli") ? e.maskingNoise(0.3f) : e.gaussianNoise(0.3f);
        }
        for (int u : layers) {
            e = e.dense(u).relu();
        }
        LatentStage l = k.equals("vae") ? e.gaussianLatent(latent) : e.latent(latent);
        DecoderStage d = l.decoder();
        for (int i = layers.length - 1; i >= 0; i--) {
            d = d.dense(layers[i]).relu();
        }
        d = d.dense(features);
        return switch (likelihood) {
            case "bernoulli" -> d.bernoulli();
            case "gaussian" -> d.gaussian();
            default -> d.gaussianLearnedVariance();
        };
    }
}
