package org.latent4j.dsl;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.latent4j.kernel.Activation;

/**
 * One layer of a model spec: a sealed family of records, one per layer kind, each with its own
 * named parameters, its JSON form ({@link #toJson()}), its summary text ({@link #describe()}) and
 * its count of trained parameters ({@link #trainedParameters(int)}). A new kind does not compile
 * until it has all of them, and {@link #fromJson} reads each kind's form back (a test round-trips
 * every permitted record).
 */
public sealed interface LayerSpec {

    /** A fully connected layer of {@code units} outputs (weight and bias). */
    record Dense(int units) implements LayerSpec {
        public Dense {
            if (units <= 0) {
                throw new IllegalArgumentException("dense layer needs a positive number of units, got " + units);
            }
        }
    }

    /** An element-wise activation with its parameter (slope of leaky relu, alpha of elu; 0 for the others). */
    record ActivationLayer(Activation activation, float parameter) implements LayerSpec {
        public ActivationLayer {
            if (activation == null) {
                throw new IllegalArgumentException("activation layer needs an activation");
            }
            activation.checkParameter(parameter);
        }
    }

    /** Training only: adds N(0, stddev^2) to every value; at inference the input passes through. */
    record GaussianNoise(float stddev) implements LayerSpec {
        public GaussianNoise {
            if (!(stddev > 0f && Float.isFinite(stddev))) {
                throw new IllegalArgumentException("gaussianNoise(" + stddev + "): the standard deviation must be positive and finite");
            }
        }
    }

    /** Training only: sets each value to 0 with {@code probability}. */
    record MaskingNoise(float probability) implements LayerSpec {
        public MaskingNoise {
            checkProbability("masking_noise", probability);
        }
    }

    /** Training only: sets each value with {@code probability} to 0 or 1 (even odds). */
    record SaltAndPepper(float probability) implements LayerSpec {
        public SaltAndPepper {
            checkProbability("salt_and_pepper", probability);
        }
    }

    /** Training only: zeroes each value with {@code probability} and scales the rest by 1 / (1 - probability). */
    record Dropout(float probability) implements LayerSpec {
        public Dropout {
            checkProbability("dropout", probability);
        }
    }

    /**
     * Sparse autoencoder penalty on the layer before (outputs in (0, 1): after a sigmoid), added to
     * the objective: {@code weight * sum_j KL(rho || rho_j)} with rho_j the batch's mean
     * activation of unit j. Passes its input through.
     */
    record Sparsity(float rho, float weight) implements LayerSpec {
        public Sparsity {
            if (!(rho > 0f && rho < 1f)) {
                throw new IllegalArgumentException("sparsity(" + rho + ", " + weight + "): the target rate rho must be in (0, 1)");
            }
            checkWeight("sparsity", weight);
        }
    }

    /** Activity penalty {@code weight * sum_j |h_j|} per sample on the layer before. Passes its input through. */
    record ActivityL1(float weight) implements LayerSpec {
        public ActivityL1 {
            checkWeight("activityL1", weight);
        }
    }

    /**
     * Batch normalization of each feature, {@code gamma * (x - mean) / sqrt(var + epsilon) + beta}
     * with a learned scale gamma and shift beta; in training mean and var are the batch's (biased
     * variance), at inference the running averages kept from training, each updated after an
     * applied step as {@code (1 - momentum) * running + momentum * batch} (the unbiased batch
     * variance for the running variance, as PyTorch).
     */
    record BatchNorm(float momentum, float epsilon) implements LayerSpec {
        public BatchNorm {
            if (!(momentum > 0f && momentum <= 1f)) {
                throw new IllegalArgumentException("batchNorm(" + momentum + ", " + epsilon + "): the momentum must be in (0, 1]");
            }
            if (!(epsilon > 0f && Float.isFinite(epsilon))) {
                throw new IllegalArgumentException("batchNorm(" + momentum + ", " + epsilon + "): epsilon must be positive and finite");
            }
        }
    }

    // ------------------------------------------------------------------ what every kind says of itself

    /** True for the noise layers, which act in training only. */
    default boolean isNoise() {
        return switch (this) {
            case GaussianNoise g -> true;
            case MaskingNoise m -> true;
            case SaltAndPepper s -> true;
            case Dropout d -> true;
            case Dense d -> false;
            case ActivationLayer a -> false;
            case Sparsity s -> false;
            case ActivityL1 a -> false;
            case BatchNorm b -> false;
        };
    }

    /** True for the penalties, which add a term to the objective and pass their input through. */
    default boolean isPenalty() {
        return switch (this) {
            case Sparsity s -> true;
            case ActivityL1 a -> true;
            case Dense d -> false;
            case ActivationLayer a -> false;
            case GaussianNoise g -> false;
            case MaskingNoise m -> false;
            case SaltAndPepper s -> false;
            case Dropout d -> false;
            case BatchNorm b -> false;
        };
    }

    /** Output width for an input of {@code inputWidth} features (only dense layers change it). */
    default int outputWidth(int inputWidth) {
        return this instanceof Dense d ? d.units() : inputWidth;
    }

    /** Trained parameters of the layer on an input of {@code inputWidth} features (state such as running statistics not counted). */
    default long trainedParameters(int inputWidth) {
        return switch (this) {
            case Dense d -> (long) inputWidth * d.units() + d.units();
            case BatchNorm b -> 2L * inputWidth;
            case ActivationLayer a -> 0;
            case GaussianNoise g -> 0;
            case MaskingNoise m -> 0;
            case SaltAndPepper s -> 0;
            case Dropout d -> 0;
            case Sparsity s -> 0;
            case ActivityL1 a -> 0;
        };
    }

    /** e.g. "dense(512)", "relu", "leaky_relu(0.01)", "dropout(0.2)", "sparsity(0.05, 3.0)". */
    default String describe() {
        return switch (this) {
            case Dense d -> "dense(" + d.units() + ")";
            case ActivationLayer a -> switch (a.activation()) {
                case LEAKY_RELU, ELU -> name(a.activation()) + "(" + a.parameter() + ")";
                case IDENTITY, RELU, TANH, SIGMOID, SOFTPLUS, EXP, LOG -> name(a.activation());
            };
            case GaussianNoise g -> "gaussian_noise(" + g.stddev() + ")";
            case MaskingNoise m -> "masking_noise(" + m.probability() + ")";
            case SaltAndPepper s -> "salt_and_pepper(" + s.probability() + ")";
            case Dropout d -> "dropout(" + d.probability() + ")";
            case Sparsity s -> "sparsity(" + s.rho() + ", " + s.weight() + ")";
            case ActivityL1 a -> "activity_l1(" + a.weight() + ")";
            case BatchNorm b -> "batch_norm(" + b.momentum() + ", " + b.epsilon() + ")";
        };
    }

    /** The layer's JSON object, e.g. {"dense": 512}, {"activation": "leaky_relu", "parameter": 0.01}. */
    default Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (this) {
            case Dense d -> m.put("dense", d.units());
            case ActivationLayer a -> {
                m.put("activation", name(a.activation()));
                if (a.activation() == Activation.LEAKY_RELU || a.activation() == Activation.ELU) {
                    m.put("parameter", (double) a.parameter());
                }
            }
            case GaussianNoise g -> m.put("gaussian_noise", (double) g.stddev());
            case MaskingNoise k -> m.put("masking_noise", (double) k.probability());
            case SaltAndPepper s -> m.put("salt_and_pepper", (double) s.probability());
            case Dropout d -> m.put("dropout", (double) d.probability());
            case Sparsity s -> {
                m.put("sparsity", (double) s.rho());
                m.put("weight", (double) s.weight());
            }
            case ActivityL1 a -> m.put("activity_l1", (double) a.weight());
            case BatchNorm b -> {
                m.put("batch_norm", (double) b.momentum());
                m.put("epsilon", (double) b.epsilon());
            }
        }
        return m;
    }

    /** The JSON keys that name a layer kind, in the order {@link #fromJson} tries them. */
    List<String> JSON_KINDS = List.of("dense", "activation", "gaussian_noise", "masking_noise", "salt_and_pepper", "dropout",
            "sparsity", "activity_l1", "batch_norm");

    /**
     * Reads a layer written by {@link #toJson()}. {@code at} names it in errors (e.g.
     * "encoder[2]"); numbers are read by {@code number} (which names the field when one is wrong).
     */
    static LayerSpec fromJson(Map<?, ?> l, String at, Numbers number) {
        String kind = null;
        for (String k : JSON_KINDS) {
            if (l.containsKey(k)) {
                kind = k;
                break;
            }
        }
        if (kind == null) {
            throw new IllegalArgumentException("unknown layer " + Json.write(l) + " (expected one of " + String.join(", ", JSON_KINDS) + ")");
        }
        return switch (kind) {
            case "dense" -> new Dense(number.integer(l.get("dense"), at + ".dense"));
            case "activation" -> {
                Activation a = null;
                if (l.get("activation") instanceof String s) {
                    for (Activation c : Activation.values()) {
                        if (c.name().equalsIgnoreCase(s)) {
                            a = c;
                        }
                    }
                }
                if (a == null) {
                    throw new IllegalArgumentException("model spec: unknown " + at + ".activation " + Json.write(l.get("activation")));
                }
                yield new ActivationLayer(a, l.containsKey("parameter") ? number.real(l.get("parameter"), at + ".parameter") : 0f);
            }
            case "gaussian_noise" -> new GaussianNoise(number.real(l.get(kind), at + "." + kind));
            case "masking_noise" -> new MaskingNoise(number.real(l.get(kind), at + "." + kind));
            case "salt_and_pepper" -> new SaltAndPepper(number.real(l.get(kind), at + "." + kind));
            case "dropout" -> new Dropout(number.real(l.get(kind), at + "." + kind));
            case "sparsity" -> new Sparsity(number.real(l.get("sparsity"), at + ".sparsity"), number.real(l.get("weight"), at + ".weight"));
            case "activity_l1" -> new ActivityL1(number.real(l.get("activity_l1"), at + ".activity_l1"));
            case "batch_norm" -> new BatchNorm(number.real(l.get("batch_norm"), at + ".batch_norm"),
                    l.containsKey("epsilon") ? number.real(l.get("epsilon"), at + ".epsilon") : 1e-5f);
            default -> throw new IllegalStateException("JSON_KINDS names " + kind + " but fromJson does not read it");
        };
    }

    /** How {@link #fromJson} reads numbers (the model spec's reader, which names the field in its errors). */
    interface Numbers {
        int integer(Object v, String where);

        float real(Object v, String where);
    }

    private static String name(Activation a) {
        return a.name().toLowerCase(Locale.ROOT);
    }

    private static void checkProbability(String what, float p) {
        if (!(p > 0f && p < 1f)) {
            throw new IllegalArgumentException(what + "(" + p + "): the probability must be in (0, 1)");
        }
    }

    private static void checkWeight(String what, float w) {
        if (!(w > 0f && Float.isFinite(w))) {
            throw new IllegalArgumentException(what + ": the penalty weight must be positive and finite, got " + w);
        }
    }
}
