package org.latent4j.train;

/**
 * How to train: optimizer, batch size, epochs, seed, threads, the weight of the KL term (beta;
 * 1 for a plain VAE), gradient-norm clipping (0: none) and whether to shuffle each epoch.
 */
public record TrainingConfig(OptimizerSpec optimizer, int batchSize, int epochs, long seed, int threads,
                             float klWeight, float clipNorm, boolean shuffle, WeightInit weightInit) {
    /** How weights start: He or Xavier chosen by the activation that follows each layer, or one for all. */
    public enum WeightInit { BY_ACTIVATION, HE, XAVIER }

    public TrainingConfig(OptimizerSpec optimizer, int batchSize, int epochs, long seed, int threads,
                          float klWeight, float clipNorm, boolean shuffle) {
        this(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, WeightInit.BY_ACTIVATION);
    }

    public TrainingConfig {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        if (epochs <= 0) {
            throw new IllegalArgumentException("epochs must be positive, got " + epochs);
        }
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive, got " + threads);
        }
        if (!(klWeight >= 0f && Float.isFinite(klWeight))) {
            throw new IllegalArgumentException("KL weight (beta) must be finite and not negative, got " + klWeight);
        }
        if (weightInit == null) {
            throw new IllegalArgumentException("weight init must not be null");
        }
        if (!(clipNorm >= 0f)) {
            throw new IllegalArgumentException("gradient clipping norm must not be negative, got " + clipNorm);
        }
    }

    /** The W1 recipe: Adam 1e-3, batch 128, 10 epochs, beta 1, no clipping, init by activation. */
    public static TrainingConfig defaults() {
        return new TrainingConfig(OptimizerSpec.adam(1e-3f), 128, 10, 42, 1, 1f, 0f, true);
    }

    public TrainingConfig withEpochs(int e) {
        return new TrainingConfig(optimizer, batchSize, e, seed, threads, klWeight, clipNorm, shuffle, weightInit);
    }

    public TrainingConfig withBatchSize(int b) {
        return new TrainingConfig(optimizer, b, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit);
    }

    public TrainingConfig withSeed(long s) {
        return new TrainingConfig(optimizer, batchSize, epochs, s, threads, klWeight, clipNorm, shuffle, weightInit);
    }

    public TrainingConfig withThreads(int t) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, t, klWeight, clipNorm, shuffle, weightInit);
    }

    public TrainingConfig withOptimizer(OptimizerSpec o) {
        return new TrainingConfig(o, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit);
    }

    public TrainingConfig withKlWeight(float beta) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, beta, clipNorm, shuffle, weightInit);
    }

    public TrainingConfig withWeightInit(WeightInit w) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, w);
    }

    public TrainingConfig withClipNorm(float c) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, c, shuffle, weightInit);
    }
}
