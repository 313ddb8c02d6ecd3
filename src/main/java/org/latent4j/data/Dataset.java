package org.latent4j.data;

import org.latent4j.kernel.Shape;

/**
 * Rows of float features in one row-major array, with optional integer labels and optional
 * context vectors (what a conditional model is conditioned on when it is not a class).
 *
 * @param x      rows x features, row-major
 * @param labels one per row, or null
 * @param context rows x {@link #contextWidth()} context values, row-major, or null
 * @param source where the rows came from (a file, "bundled Fashion-MNIST train"), for messages
 * @param droppedRows rows the reader left out because they held NaN or infinite values (only
 *                    when asked to: by default such a row is an error naming it)
 * @param sampleShape the shape of one row when the rows are images (channels x height x width,
 *                    channels first: a Fashion-MNIST image is 1 x 28 x 28), else null (features)
 */
public record Dataset(float[] x, int rows, int features, int[] labels, float[] context, String source, int droppedRows,
                      Shape sampleShape) {
    /** Rows of features (no image shape). */
    public Dataset(float[] x, int rows, int features, int[] labels, float[] context, String source, int droppedRows) {
        this(x, rows, features, labels, context, source, droppedRows, null);
    }

    public Dataset(float[] x, int rows, int features, int[] labels, String source) {
        this(x, rows, features, labels, null, source, 0);
    }

    public Dataset(float[] x, int rows, int features, int[] labels, String source, int droppedRows) {
        this(x, rows, features, labels, null, source, droppedRows);
    }

    public Dataset {
        if (rows <= 0 || features <= 0) {
            throw new IllegalArgumentException(source + ": a data set needs at least one row and one feature, got "
                    + rows + " x " + features);
        }
        if ((long) rows * features != x.length) {
            throw new IllegalArgumentException(source + ": " + rows + " x " + features + " features but " + x.length + " values");
        }
        if (labels != null && labels.length != rows) {
            throw new IllegalArgumentException(source + ": " + labels.length + " labels for " + rows + " rows");
        }
        if (context != null && (context.length == 0 || context.length % rows != 0)) {
            throw new IllegalArgumentException(source + ": " + context.length + " context values for " + rows
                    + " rows (a context vector per row, all of one width)");
        }
        if (sampleShape != null && !sampleShape.spatial()) {
            sampleShape = null;
        }
        if (sampleShape != null && sampleShape.size() != features) {
            throw new IllegalArgumentException(source + ": images of " + sampleShape + " hold " + sampleShape.size() + " values but a row has "
                    + features);
        }
    }

    /** The same rows seen as images of this shape (its size must be the row's), or as features when null. */
    public Dataset withSampleShape(Shape shape) {
        return new Dataset(x, rows, features, labels, context, source, droppedRows, shape);
    }

    /** The shape of one row: its image shape, or a vector of {@code features} values. */
    public Shape shape() {
        return sampleShape != null ? sampleShape : Shape.features(features);
    }

    /** Values per row of the context vectors, 0 without them. */
    public int contextWidth() {
        return context == null ? 0 : context.length / rows;
    }

    /**
     * The same rows with a context vector each ({@code context[r]} for row r, all of one width, finite),
     * for a conditional model conditioned on values rather than on a class ({@code conditionedOn(width)}).
     */
    public Dataset withContext(float[][] context) {
        if (context == null || context.length != rows) {
            throw new IllegalArgumentException(source + ": " + (context == null ? 0 : context.length) + " context vectors for "
                    + rows + " rows");
        }
        int w = context[0] == null ? 0 : context[0].length;
        if (w == 0) {
            throw new IllegalArgumentException(source + ": context vector 0 is empty");
        }
        float[] c = new float[rows * w];
        for (int r = 0; r < rows; r++) {
            if (context[r] == null || context[r].length != w) {
                throw new IllegalArgumentException(source + ": context vector " + r + " has "
                        + (context[r] == null ? 0 : context[r].length) + " values but vector 0 has " + w);
            }
            for (int j = 0; j < w; j++) {
                if (!Float.isFinite(context[r][j])) {
                    throw new IllegalArgumentException(source + ": context vector " + r + ", value " + j + " is " + context[r][j]);
                }
            }
            System.arraycopy(context[r], 0, c, r * w, w);
        }
        return new Dataset(x, rows, features, labels, c, source, droppedRows, sampleShape);
    }

    /** The first n rows (a copy). */
    public Dataset head(int n) {
        int k = Math.min(n, rows);
        float[] y = java.util.Arrays.copyOf(x, k * features);
        int[] l = labels == null ? null : java.util.Arrays.copyOf(labels, k);
        float[] c = context == null ? null : java.util.Arrays.copyOf(context, k * contextWidth());
        return new Dataset(y, k, features, l, c, source + " (first " + k + ")", 0, sampleShape);
    }

    /**
     * Checks that every value is finite: an error names the first bad row and column (0-based),
     * or, with {@code drop}, the rows holding a NaN or infinity are left out and counted.
     */
    public Dataset requireFinite(boolean drop) {
        int[] kept = new int[rows];   // the rows to keep, in order
        int keep = 0;
        for (int r = 0; r < rows; r++) {
            int bad = -1;
            for (int c = 0; c < features && bad < 0; c++) {
                bad = Float.isFinite(x[r * features + c]) ? -1 : c;
            }
            if (bad >= 0 && !drop) {
                throw new IllegalArgumentException(source + ": row " + r + ", column " + bad + " (0-based) is "
                        + x[r * features + bad] + "; drop such rows explicitly if that is intended");
            }
            if (bad < 0) {
                kept[keep++] = r;
            }
        }
        if (keep == rows) {
            return this;
        }
        if (keep == 0) {
            throw new IllegalArgumentException(source + ": every one of the " + rows + " rows holds a NaN or infinite value");
        }
        float[] y = new float[keep * features];
        int[] l = labels == null ? null : new int[keep];
        int cw = contextWidth();
        float[] c = context == null ? null : new float[keep * cw];
        for (int k = 0; k < keep; k++) {
            System.arraycopy(x, kept[k] * features, y, k * features, features);
            if (l != null) {
                l[k] = labels[kept[k]];
            }
            if (c != null) {
                System.arraycopy(context, kept[k] * cw, c, k * cw, cw);
            }
        }
        return new Dataset(y, keep, features, l, c, source, droppedRows + rows - keep, sampleShape);
    }

    /** A data set cut in two: the rows to train on and the held-out ones. */
    public record Split(Dataset train, Dataset validation) {}

    /**
     * A seeded random split: round(fraction x rows) rows (at least 1) held out for validation, the
     * rest to train on (at least 2), each part in the file's order; the same seed gives the same
     * split. Labels and context vectors follow their rows.
     */
    public Split split(double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("the validation fraction must be above 0 and below 1, got " + fraction);
        }
        int held = (int) Math.max(1, Math.round(fraction * rows));
        if (rows - held < 2) {
            throw new IllegalArgumentException(source + ": " + rows + " rows are too few to hold out " + held
                    + " for validation and train on at least 2");
        }
        int[] order = new int[rows];
        for (int i = 0; i < rows; i++) {
            order[i] = i;
        }
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (int i = rows - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        boolean[] out = new boolean[rows];
        for (int i = 0; i < held; i++) {
            out[order[i]] = true;
        }
        return new Split(pick(out, false, " (training part)"), pick(out, true, " (validation part)"));
    }

    /** Rows r with held[r] == want, in order. */
    private Dataset pick(boolean[] held, boolean want, String what) {
        int n = 0;
        for (boolean b : held) {
            n += b == want ? 1 : 0;
        }
        int cw = contextWidth();
        float[] y = new float[n * features];
        int[] l = labels == null ? null : new int[n];
        float[] c = context == null ? null : new float[n * cw];
        for (int r = 0, k = 0; r < rows; r++) {
            if (held[r] == want) {
                System.arraycopy(x, r * features, y, k * features, features);
                if (l != null) {
                    l[k] = labels[r];
                }
                if (c != null) {
                    System.arraycopy(context, r * cw, c, k * cw, cw);
                }
                k++;
            }
        }
        return new Dataset(y, n, features, l, c, source + what, 0, sampleShape);
    }

    /** Row r as a new array. */
    public float[] row(int r) {
        return java.util.Arrays.copyOfRange(x, r * features, (r + 1) * features);
    }
}
