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
    /** "autoencoder", "vae", "pca" or "ppca". */
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
