package org.latent4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * An input scaling per feature, x' = (x - offset) / scale, fitted on the rows a model was
 * trained on and kept with it: none, min-max (the training rows into [0, 1]) or
 * standardization (mean 0, standard deviation 1), or log1p (log(1 + x), then standardized: for
 * counts and other skewed non-negative values). A feature that is constant in the fitting rows
 * gets scale 1. Values are float32, computed in double; an {@link AnomalyDetector} applies its
 * scaling before the model in every score and saves it in its model file, and an
 * {@link Autoencoder} trained on scaled rows keeps its input scaling the same way
 * ({@link Autoencoder#withInputScaling}): it scales every input and unscales every output.
 */
public final class Scaling {
    static final String KIND_KEY = "latent4j.anomaly.scaling", OFFSET_KEY = "latent4j.anomaly.scaling.offset",
            SCALE_KEY = "latent4j.anomaly.scaling.scale";
    /** The keys of a model's own input scaling (the same format as a detector's, under another name). */
    static final String INPUT_KIND_KEY = "latent4j.input.scaling";
    private static final Scaling NONE = new Scaling("none", null, null);

    private final String kind;
    private final float[] offset;   // null for none
    private final float[] scale;
    private final boolean log;   // log1p before the affine part

    private Scaling(String kind, float[] offset, float[] scale) {
        this.kind = kind;
        this.offset = offset;
        this.scale = scale;
        this.log = kind.equals("log1p");
    }

    /** No scaling: rows reach the model as they are. */
    public static Scaling none() {
        return NONE;
    }

    /** (x - min) / (max - min) per feature, min and max over the rows given. */
    public static Scaling minMax(float[][] rows) {
        int d = width(rows, "min-max");
        float[] lo = rows[0].clone(), range = new float[d];
        float[] hi = rows[0].clone();
        for (float[] r : rows) {
            for (int j = 0; j < d; j++) {
                lo[j] = Math.min(lo[j], r[j]);
                hi[j] = Math.max(hi[j], r[j]);
            }
        }
        for (int j = 0; j < d; j++) {
            float w = (float) ((double) hi[j] - lo[j]);   // may round to 0 or overflow for extreme values
            range[j] = w == 0 ? 1f : Float.isFinite(w) ? w : Float.MAX_VALUE;
        }
        return checked("minmax", lo, range, "min-max");
    }

    /** (x - mean) / standard deviation per feature (population: divided by the row count), over the rows given. */
    public static Scaling standardize(float[][] rows) {
        int d = width(rows, "standardization");
        double[] mean = new double[d], m2 = new double[d];
        for (float[] r : rows) {
            for (int j = 0; j < d; j++) {
                mean[j] += r[j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= rows.length;
        }
        for (float[] r : rows) {
            for (int j = 0; j < d; j++) {
                double e = r[j] - mean[j];
                m2[j] += e * e;
            }
        }
        float[] off = new float[d], sd = new float[d];
        for (int j = 0; j < d; j++) {
            off[j] = (float) mean[j];
            float s = (float) Math.sqrt(m2[j] / rows.length);
            sd[j] = s > 0 && Float.isFinite(s) ? s : 1f;
        }
        return checked("standard", off, sd, "standardization");
    }

    /**
     * log(1 + x), then standardized: offset and scale are the mean and standard deviation of
     * log1p(x) per feature over the rows given, which must all be above -1.
     */
    public static Scaling log1p(float[][] rows) {
        int d = width(rows, "log1p");
        float[][] logs = new float[rows.length][d];
        for (int r = 0; r < rows.length; r++) {
            for (int j = 0; j < d; j++) {
                if (!(rows[r][j] > -1f)) {
                    throw new IllegalArgumentException("log1p: row " + r + ", feature " + j + " is " + rows[r][j]
                            + "; log(1 + x) needs values above -1 (counts, amounts)");
                }
                logs[r][j] = (float) Math.log1p(rows[r][j]);
            }
        }
        Scaling s = standardize(logs);
        return new Scaling("log1p", s.offset, s.scale);
    }

    /** A scaling with the given offsets and scales (copied): finite, scales non-zero. */
    public static Scaling of(float[] offset, float[] scale) {
        if (offset == null || scale == null || offset.length == 0 || offset.length != scale.length) {
            throw new IllegalArgumentException("scaling: need as many offsets as scales, at least one, got "
                    + (offset == null ? 0 : offset.length) + " and " + (scale == null ? 0 : scale.length));
        }
        return checked("custom", offset.clone(), scale.clone(), "scaling");
    }

    private static Scaling checked(String kind, float[] offset, float[] scale, String what) {
        for (int j = 0; j < offset.length; j++) {
            if (!Float.isFinite(offset[j])) {
                throw new IllegalArgumentException(what + ": the offset of feature " + j + " is " + offset[j]);
            }
            if (!Float.isFinite(scale[j]) || scale[j] == 0) {
                throw new IllegalArgumentException(what + ": the scale of feature " + j + " is " + scale[j] + "; it must be finite and non-zero");
            }
        }
        return new Scaling(kind, offset, scale);
    }

    private static int width(float[][] rows, String what) {
        if (rows == null || rows.length == 0 || rows[0] == null || rows[0].length == 0) {
            throw new IllegalArgumentException(what + ": at least one row of features is needed");
        }
        int d = rows[0].length;
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null || rows[r].length != d) {
                throw new IllegalArgumentException(what + ": row " + r + " has " + (rows[r] == null ? 0 : rows[r].length)
                        + " features but row 0 has " + d);
            }
            for (int j = 0; j < d; j++) {
                if (!Float.isFinite(rows[r][j])) {
                    throw new IllegalArgumentException(what + ": row " + r + ", feature " + j + " is " + rows[r][j]);
                }
            }
        }
        return d;
    }

    /** "none", "minmax", "standard", "log1p" or "custom". */
    public String kind() {
        return kind;
    }

    public boolean isNone() {
        return offset == null;
    }

    /** The feature count (0 for none, which takes any width). */
    public int features() {
        return offset == null ? 0 : offset.length;
    }

    public float[] offset() {
        return offset == null ? new float[0] : offset.clone();
    }

    public float[] scale() {
        return scale == null ? new float[0] : scale.clone();
    }

    /** The scaled rows (new arrays; none returns x itself). */
    public float[][] apply(float[][] x) {
        if (offset == null) {
            return x;
        }
        float[][] out = new float[x.length][];
        for (int r = 0; r < x.length; r++) {
            if (x[r] == null || x[r].length != offset.length) {
                throw new IllegalArgumentException("input row " + r + " has " + (x[r] == null ? "no" : x[r].length)
                        + " features but the scaling takes " + offset.length);
            }
            float[] y = new float[offset.length];
            for (int j = 0; j < y.length; j++) {
                double v = x[r][j];
                if (log) {
                    if (!(v > -1)) {
                        throw new IllegalArgumentException("input row " + r + ", feature " + j + " is " + x[r][j]
                                + "; the model's log1p scaling takes values above -1");
                    }
                    v = Math.log1p(v);
                }
                y[j] = (float) ((v - offset[j]) / scale[j]);
            }
            out[r] = y;
        }
        return out;
    }

    /** The rows back in the original units: the inverse of {@link #apply} (new arrays; none returns y itself). */
    public float[][] invert(float[][] y) {
        if (offset == null) {
            return y;
        }
        float[][] out = new float[y.length][];
        for (int r = 0; r < y.length; r++) {
            if (y[r] == null || y[r].length != offset.length) {
                throw new IllegalArgumentException("row " + r + " has " + (y[r] == null ? "no" : y[r].length)
                        + " features but the scaling takes " + offset.length);
            }
            float[] x = new float[offset.length];
            for (int j = 0; j < x.length; j++) {
                double v = (double) y[r][j] * scale[j] + offset[j];
                x[j] = (float) (log ? Math.expm1(v) : v);
            }
            out[r] = x;
        }
        return out;
    }

    /** Same kind, offsets and scales. */
    boolean sameAs(Scaling o) {
        return kind.equals(o.kind) && java.util.Arrays.equals(offset, o.offset) && java.util.Arrays.equals(scale, o.scale);
    }

    // ------------------------------------------------------------------ files

    /** Adds this scaling's keys to model-file metadata (nothing for none); floats in Java's round-trip decimal form. */
    void toMetadata(Map<String, String> md) {
        toMetadata(md, KIND_KEY);
    }

    /** As above under the keys {@code kindKey}, {@code kindKey.offset} and {@code kindKey.scale}. */
    void toMetadata(Map<String, String> md, String kindKey) {
        if (offset == null) {
            return;
        }
        md.put(kindKey, kind);
        md.put(kindKey + ".offset", join(offset));
        md.put(kindKey + ".scale", join(scale));
    }

    private static String join(float[] v) {
        StringBuilder sb = new StringBuilder(v.length * 12);
        for (int j = 0; j < v.length; j++) {
            sb.append(j == 0 ? "" : ",").append(v[j]);
        }
        return sb.toString();
    }

    /** The scaling in a model file's metadata (none when it has no scaling keys), checked against the model's input width. */
    static Scaling fromMetadata(Map<String, String> md, int inputDim, Path file) throws IOException {
        return fromMetadata(md, KIND_KEY, inputDim, file);
    }

    /** As above under the keys {@code kindKey}, {@code kindKey.offset} and {@code kindKey.scale}. */
    static Scaling fromMetadata(Map<String, String> md, String kindKey, int inputDim, Path file) throws IOException {
        String OFFSET_KEY = kindKey + ".offset", SCALE_KEY = kindKey + ".scale", KIND_KEY = kindKey;
        String kind = md.get(KIND_KEY), off = md.get(OFFSET_KEY), sc = md.get(SCALE_KEY);
        if (kind == null && off == null && sc == null) {
            return NONE;
        }
        if (kind == null || off == null || sc == null) {
            throw new IOException(file + ": the input scaling needs all of " + KIND_KEY + ", " + OFFSET_KEY + " and " + SCALE_KEY
                    + " in the metadata; some are missing");
        }
        if (!kind.equals("minmax") && !kind.equals("standard") && !kind.equals("log1p") && !kind.equals("custom")) {
            throw new IOException(file + ": metadata " + KIND_KEY + " is '" + kind + "', not minmax, standard, log1p or custom");
        }
        float[] o = parse(off, OFFSET_KEY, inputDim, file), s = parse(sc, SCALE_KEY, inputDim, file);
        for (int j = 0; j < inputDim; j++) {
            if (!Float.isFinite(o[j])) {
                throw new IOException(file + ": metadata " + OFFSET_KEY + ", entry " + j + " is " + o[j] + "; offsets must be finite");
            }
            if (!Float.isFinite(s[j]) || s[j] == 0) {
                throw new IOException(file + ": metadata " + SCALE_KEY + ", entry " + j + " is " + s[j] + "; scales must be finite and non-zero");
            }
        }
        return new Scaling(kind, o, s);
    }

    private static float[] parse(String text, String key, int inputDim, Path file) throws IOException {
        String[] parts = text.split(",", -1);
        if (parts.length != inputDim) {
            throw new IOException(file + ": metadata " + key + " has " + parts.length + " entries but the model takes " + inputDim + " features");
        }
        float[] v = new float[inputDim];
        for (int j = 0; j < inputDim; j++) {
            String p = parts[j].strip();
            try {
                v[j] = Float.parseFloat(p);
            } catch (NumberFormatException e) {
                throw new IOException(file + ": metadata " + key + ", entry " + j + " is '" + shorten(p) + "', not a number");
            }
        }
        return v;
    }

    private static String shorten(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    @Override
    public String toString() {
        return offset == null ? "none" : String.format(Locale.ROOT, "%s scaling of %d features", kind, offset.length);
    }
}
