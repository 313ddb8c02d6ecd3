package org.latent4j.model;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What every latent4j model offers its users, whatever it is: an autoencoder or a VAE
 * ({@link Autoencoder}), or a linear baseline, PCA or probabilistic PCA ({@link LinearModel}).
 * Rows are plain {@code float[]} of {@link #inputDim()} features; every method is safe to call
 * from many threads at once. {@link Models#load(Path)} opens any model file.
 */
public interface LatentModel {
    /** "autoencoder", "vae", "vq-vae", "fsq" (an autoencoder with a finite-scalar-quantized latent), "pca", "ppca" or "helmholtz". */
    String kind();

    int inputDim();

    int latentDim();

    /** Latent codes (for a probabilistic model, the posterior means), one row per input row. */
    float[][] encode(float[][] x);

    /** Data-space means for latent codes. */
    float[][] decode(float[][] z);

    /** decode(encode(x)). */
    float[][] reconstruct(float[][] x);

    /**
     * The reconstruction of possibly corrupted inputs: for every model kind, the decoder mean of
     * the encoder mean, the same numbers as {@link #reconstruct}. A denoising autoencoder learns
     * to map corrupted rows back to clean ones; its corruption (noise, masking) belongs to
     * training only and is never applied here, nor is any other random draw.
     */
    default float[][] denoise(float[][] x) {
        return reconstruct(x);
    }

    /** How {@link #interpolate} walks from one latent code to the other. */
    enum Interpolation {
        /** Along the straight line: (1 - t) za + t zb. */
        LINEAR,
        /**
         * Along the great circle (slerp): sin((1 - t) w) / sin(w) za + sin(t w) / sin(w) zb, w the
         * angle between the codes; it keeps the norm when both codes have the same norm (points of
         * a high-dimensional Gaussian prior lie near a sphere, the line between two of them does
         * not). Falls back to {@link #LINEAR} when a code is zero or the two are (nearly) parallel
         * or opposite (sin w below 1e-6), where the circle is not defined.
         */
        SPHERICAL
    }

    /**
     * {@code steps} decoded points from row a to row b: both rows are encoded (latent means), the
     * codes joined by {@link #interpolateCodes} (a's code first, b's last) and decoded. Rows of
     * {@link #inputDim()} features; at least 2 steps.
     */
    default float[][] interpolate(float[] a, float[] b, int steps, Interpolation how) {
        for (int k = 0; k < 2; k++) {
            float[] row = k == 0 ? a : b;
            String name = k == 0 ? "a" : "b";
            if (row == null || row.length != inputDim()) {
                throw new IllegalArgumentException("interpolate: row " + name + " has " + (row == null ? "no" : row.length)
                        + " features but the model takes " + inputDim());
            }
        }
        checkInterpolation(steps, how);
        float[][] z = encode(new float[][] {a, b});
        return decode(interpolateCodes(z[0], z[1], steps, how));
    }

    /**
     * {@code steps} latent points from za to zb inclusive, at t = i / (steps - 1): the first is
     * za and the last zb exactly; computed in double. See {@link Interpolation} for the two paths.
     */
    static float[][] interpolateCodes(float[] za, float[] zb, int steps, Interpolation how) {
        checkInterpolation(steps, how);
        if (za == null || zb == null || za.length == 0 || za.length != zb.length) {
            throw new IllegalArgumentException("interpolate: the two codes need the same positive length, got "
                    + (za == null ? "none" : za.length) + " and " + (zb == null ? "none" : zb.length));
        }
        int d = za.length;
        double na = 0, nb = 0;
        for (int j = 0; j < d; j++) {
            if (!Float.isFinite(za[j]) || !Float.isFinite(zb[j])) {
                throw new IllegalArgumentException("interpolate: latent dimension " + j + " of the codes is " + za[j] + " and " + zb[j]
                        + "; both must be finite");
            }
            na += (double) za[j] * za[j];
            nb += (double) zb[j] * zb[j];
        }
        na = Math.sqrt(na);
        nb = Math.sqrt(nb);
        // The angle from the unit vectors by 2 atan2(|ua - ub|, |ua + ub|): accurate near 0 and pi,
        // where acos of the dot product loses half the digits.
        double omega = 0, sinOmega = 0;
        if (how == Interpolation.SPHERICAL && na > 0 && nb > 0) {
            double diff = 0, sum = 0;
            for (int j = 0; j < d; j++) {
                double ua = za[j] / na, ub = zb[j] / nb;
                diff += (ua - ub) * (ua - ub);
                sum += (ua + ub) * (ua + ub);
            }
            omega = 2 * Math.atan2(Math.sqrt(diff), Math.sqrt(sum));
            sinOmega = Math.sin(omega);
        }
        boolean spherical = sinOmega >= 1e-6;
        float[][] out = new float[steps][];
        out[0] = za.clone();
        out[steps - 1] = zb.clone();
        for (int i = 1; i < steps - 1; i++) {
            double t = (double) i / (steps - 1);
            double wa = spherical ? Math.sin((1 - t) * omega) / sinOmega : 1 - t;
            double wb = spherical ? Math.sin(t * omega) / sinOmega : t;
            float[] z = new float[d];
            for (int j = 0; j < d; j++) {
                z[j] = (float) (wa * za[j] + wb * zb[j]);
            }
            out[i] = z;
        }
        return out;
    }

    private static void checkInterpolation(int steps, Interpolation how) {
        if (steps < 2) {
            throw new IllegalArgumentException("interpolate: steps must be at least 2 (both ends), got " + steps);
        }
        if (how == null) {
            throw new IllegalArgumentException("interpolate: say how (LINEAR or SPHERICAL)");
        }
    }

    /**
     * n draws from the model: for a VAE or PPCA from its prior (and PPCA adds its noise); for an
     * autoencoder and PCA, which have no prior, codes from N(0, I) (autoencoder) or from a
     * Gaussian with the variance of each component (PCA). Same seed, same rows.
     */
    float[][] sample(int n, long seed);

    /**
     * Anomaly score of each row: its squared reconstruction error summed over the features, the
     * score every model has, so that models can be compared on it.
     */
    default double[] score(float[][] x) {
        float[][] r = reconstruct(x);
        double[] s = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double sum = 0;
            for (int j = 0; j < x[i].length; j++) {
                double e = (double) x[i][j] - r[i][j];
                sum += e * e;
            }
            s[i] = sum;
        }
        return s;
    }

    /** A few lines for people: the kind, the sizes and the parameters. */
    String summary();

    /** One safetensors file, written atomically. */
    default void save(Path file) throws IOException {
        save(file, java.util.Map.of());
    }

    /**
     * One safetensors file, written atomically, with {@code extraMetadata} beside the model's own
     * keys (e.g. an anomaly detector's settings); a key the model writes itself is refused.
     */
    void save(Path file, java.util.Map<String, String> extraMetadata) throws IOException;
}
