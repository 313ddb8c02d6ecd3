package org.latent4j.data;

/**
 * Rows of float features in one row-major array, with optional integer labels.
 *
 * @param x      rows x features, row-major
 * @param labels one per row, or null
 * @param source where the rows came from (a file, "bundled Fashion-MNIST train"), for messages
 */
public record Dataset(float[] x, int rows, int features, int[] labels, String source) {
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
    }

    /** The first n rows (a copy). */
    public Dataset head(int n) {
        int k = Math.min(n, rows);
        float[] y = java.util.Arrays.copyOf(x, k * features);
        int[] l = labels == null ? null : java.util.Arrays.copyOf(labels, k);
        return new Dataset(y, k, features, l, source + " (first " + k + ")");
    }

    /** Row r as a new array. */
    public float[] row(int r) {
        return java.util.Arrays.copyOfRange(x, r * features, (r + 1) * features);
    }
}
