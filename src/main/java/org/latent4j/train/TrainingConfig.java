package org.latent4j.train;

/**
 * How to train: optimizer, batch size, epochs, seed, threads, the weight of the KL term (beta;
 * 1 for a plain VAE), gradient-norm clipping (0: none), whether to shuffle each epoch, weight
 * init, what a non-finite batch does, the learning-rate schedule and early stopping (null: none);
 * for a VAE the KL schedule (annealing or capacity), free bits (a floor in nats under each
 * latent dimension's batch-mean KL below which it is not pushed down; 0: none) and the number of
 * z samples per input (L; the loss is their mean); and L1 / L2 penalties on the weights (not the
 * biases) added to the objective as l1 * sum |w| + l2 / 2 * sum w^2.
 */
public record TrainingConfig(OptimizerSpec optimizer, int batchSize, int epochs, long seed, int threads,
                             float klWeight, float clipNorm, boolean shuffle, WeightInit weightInit, OnNonFinite onNonFinite,
                             LearningRateSchedule schedule, EarlyStopping earlyStopping,
                             KlSchedule klSchedule, float freeBits, int samples, float l1, float l2) {
    /**
     * How weights start. BY_ACTIVATION: He before ReLU-like activations, Xavier otherwise, zero
     * biases; HE / XAVIER: that scheme for every weight; PYTORCH: PyTorch's default for Linear,
     * Conv2d and ConvTranspose2d (kaiming-uniform with a = sqrt 5), every weight and its layer's
     * bias uniform in (-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in counted as PyTorch does (the weight's
     * second dimension times the kernel area), for comparisons with PyTorch under the same recipe.
     */
    public enum WeightInit { BY_ACTIVATION, HE, XAVIER, PYTORCH }

    /**
     * What a batch whose loss or gradient is not finite (NaN or infinite) does: STOP training
     * with an error naming the step, the op and the tensor (the parameters stay as they were
     * before that batch), or SKIP the batch (no update), counted in {@link EpochStats#skippedBatches()}.
     */
    public enum OnNonFinite { STOP, SKIP }

    public TrainingConfig(OptimizerSpec optimizer, int batchSize, int epochs, long seed, int threads,
                          float klWeight, float clipNorm, boolean shuffle, WeightInit weightInit) {
        this(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit, OnNonFinite.STOP,
                LearningRateSchedule.constant(), null, KlSchedule.constant(), 0f, 1, 0f, 0f);
    }

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
        if (weightInit == null || onNonFinite == null || schedule == null) {
            throw new IllegalArgumentException("weight init, the non-finite policy and the schedule must not be null");
        }
        if (klSchedule == null) {
            throw new IllegalArgumentException("the KL schedule must not be null (KlSchedule.constant() for none)");
        }
        if (!(freeBits >= 0f && Float.isFinite(freeBits))) {
            throw new IllegalArgumentException("free bits must be finite and not negative, got " + freeBits);
        }
        if (freeBits > 0f && klSchedule instanceof KlSchedule.Capacity) {
            throw new IllegalArgumentException("free bits and a KL capacity are two ways to keep KL up: choose one");
        }
        if (samples < 1 || samples > 1024) {
            throw new IllegalArgumentException("z samples per input must be from 1 to 1024, got " + samples);
        }
        if (!(l1 >= 0f && Float.isFinite(l1) && l2 >= 0f && Float.isFinite(l2))) {
            throw new IllegalArgumentException("weight penalties must be finite and not negative, got l1 " + l1 + ", l2 " + l2);
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
        return new TrainingConfig(optimizer, batchSize, e, seed, threads, klWeight, clipNorm, shuffle, weightInit, onNonFinite, schedule, earlyStopping, klSchedule, freeBits, samples, l1, l2);
    }

    public TrainingConfig withBatchSize(int b) {
        return new TrainingConfig(optimizer, b, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit, onNonFinite, schedule, earlyStopping, klSchedule, freeBits, samples, l1, l2);
    }

    public TrainingConfig withSeed(long s) {
        return new TrainingConfig(optimizer, batchSize, epochs, s, threads, klWeight, clipNorm, shuffle, weightInit, onNonFinite, schedule, earlyStopping, klSchedule, freeBits, samples, l1, l2);
    }

    public TrainingConfig withThreads(int t) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, t, klWeight, clipNorm, shuffle, weightInit, onNonFinite, schedule, earlyStopping, klSchedule, freeBits, samples, l1, l2);
    }

    public TrainingConfig withOptimizer(OptimizerSpec o) {
        return new TrainingConfig(o, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit, onNonFinite, schedule, earlyStopping, klSchedule, freeBits, samples, l1, l2);
    }

    public TrainingConfig withKlWeight(float beta) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, beta, clipNorm, shuffle, weightInit, onNonFinite, schedule, earlyStopping, klSchedule, freeBits, samples, l1, l2);
    }

    public TrainingConfig withWeightInit(WeightInit w) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, w, onNonFinite, schedule, earlyStopping, klSchedule, freeBits, samples, l1, l2);
    }

    public TrainingConfig withOnNonFinite(OnNonFinite policy) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit, policy, schedule, earlyStopping, klSchedule, freeBits, samples, l1, l2);
    }

    /**
     * What must match for a run to resume from a checkpoint: everything but the thread count
     * (which never changes the numbers), the number of epochs (a run may be extended) and the
     * non-finite policy (a run stopped by a NaN may go on skipping such batches).
     */
    public String recipe() {
        return withThreads(1).withEpochs(1).withOnNonFinite(OnNonFinite.STOP).toString();
    }

    /** The settings in which two recipes differ, e.g. {@code "seed: 42 there, 7 here"}. */
    static String recipeDifference(String there, String here) {
        String[] a = fields(there), b = fields(here);
        if (a.length != b.length) {
            return there + " there, " + here + " here";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < a.length; i++) {
            if (!a[i].equals(b[i])) {
                int eq = a[i].indexOf('=');
                sb.append(sb.isEmpty() ? "" : "; ").append(a[i], 0, Math.max(eq, 0)).append(": ")
                        .append(a[i].substring(eq + 1)).append(" there, ").append(b[i].substring(b[i].indexOf('=') + 1)).append(" here");
            }
        }
        return sb.toString();
    }

    private static String[] fields(String recipe) {
        return recipe.replace("TrainingConfig[", "").replace("OptimizerSpec[", "").replace("]", "").split(", ");
    }

    public TrainingConfig withSchedule(LearningRateSchedule lrSchedule) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit, onNonFinite,
                lrSchedule, earlyStopping, klSchedule, freeBits, samples, l1, l2);
    }

    /** Early stopping on the validation -ELBO; null: none. */
    public TrainingConfig withEarlyStopping(EarlyStopping stopping) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit, onNonFinite,
                schedule, stopping, klSchedule, freeBits, samples, l1, l2);
    }

    public TrainingConfig withShuffle(boolean sh) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, sh, weightInit, onNonFinite, schedule, earlyStopping, klSchedule, freeBits, samples, l1, l2);
    }

    public TrainingConfig withClipNorm(float c) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, c, shuffle, weightInit, onNonFinite, schedule, earlyStopping, klSchedule, freeBits, samples, l1, l2);
    }

    /** KL annealing or capacity for a VAE (see {@link KlSchedule}). */
    public TrainingConfig withKlSchedule(KlSchedule k) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit, onNonFinite,
                schedule, earlyStopping, k, freeBits, samples, l1, l2);
    }

    /** Free bits: each latent dimension's KL is not pushed below {@code nats} (batch mean; Kingma et al. 2016). */
    public TrainingConfig withFreeBits(float nats) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit, onNonFinite,
                schedule, earlyStopping, klSchedule, nats, samples, l1, l2);
    }

    /** L z samples per input in training (the reconstruction term is their mean). */
    public TrainingConfig withSamples(int l) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit, onNonFinite,
                schedule, earlyStopping, klSchedule, freeBits, l, l1, l2);
    }

    /** L1 and L2 penalties on the weights (not the biases). */
    public TrainingConfig withWeightPenalties(float l1Weight, float l2Weight) {
        return new TrainingConfig(optimizer, batchSize, epochs, seed, threads, klWeight, clipNorm, shuffle, weightInit, onNonFinite,
                schedule, earlyStopping, klSchedule, freeBits, samples, l1Weight, l2Weight);
    }
}
