package org.latent4j.model;

import org.latent4j.data.Dataset;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;

/**
 * Latent codes as points in a plane, for a scatter plot: the codes themselves when the latent
 * space has two dimensions, else their coordinates along the first two principal components of
 * the codes given (centered on their mean, not whitened; {@link Pca} fixes each component's sign
 * so that its largest entry is positive).
 */
public final class LatentProjection {
    private LatentProjection() {}

    /**
     * What {@link #plane} made: the points (rows x 2), the names of the two axes, and in words
     * how the points were made.
     */
    public record Plane(float[][] points, String xAxis, String yAxis, String how) {}

    /**
     * Rows x 2: the first two dimensions of 2-d codes (a copy), the first two principal components
     * of longer codes, and for 1-d codes the code beside a zero.
     */
    public static float[][] twoDimensions(float[][] codes) {
        return plane(codes).points();
    }

    /** {@link #twoDimensions} with a few words saying which projection it is. */
    public static Plane plane(float[][] codes) {
        if (codes == null || codes.length == 0) {
            throw new IllegalArgumentException("projection: at least one latent code is needed");
        }
        int d = codes[0] == null ? 0 : codes[0].length;
        float[] flat = new float[Math.multiplyExact(codes.length, Math.max(d, 1))];
        for (int r = 0; r < codes.length; r++) {
            if (codes[r] == null || codes[r].length != d || d == 0) {
                throw new IllegalArgumentException("projection: code " + r + " has " + (codes[r] == null ? 0 : codes[r].length)
                        + " dimensions but code 0 has " + d);
            }
            for (int j = 0; j < d; j++) {
                if (!Float.isFinite(codes[r][j])) {
                    throw new IllegalArgumentException("projection: dimension " + j + " of code " + r + " is " + codes[r][j]);
                }
            }
            System.arraycopy(codes[r], 0, flat, r * d, d);
        }
        float[][] out = new float[codes.length][2];
        if (d <= 2) {
            for (int r = 0; r < codes.length; r++) {
                System.arraycopy(codes[r], 0, out[r], 0, d);
            }
            return d == 2 ? new Plane(out, "latent dimension 1", "latent dimension 2", "the two latent dimensions")
                    : new Plane(out, "latent dimension 1", "(none)", "the one latent dimension, beside zeros");
        }
        Pca pca = Pca.fit(new Dataset(flat, codes.length, d, null, "latent codes"), 2, Parallelism.serial());
        double[] ratio = pca.explainedVarianceRatio();
        return new Plane(pca.transform(codes, false), "principal component 1", "principal component 2",
                String.format(java.util.Locale.ROOT, "the first two principal components of the %d-d codes (%.0f%% of their variance)",
                        d, 100 * (ratio[0] + ratio[1])));
    }
}
