package org.latent4j.dsl;

import java.util.Locale;
import org.latent4j.kernel.Activation;

/**
 * One layer of a model spec.
 * <ul>
 * <li>{@code DENSE}: a fully connected layer of {@code units} outputs;</li>
 * <li>{@code ACTIVATION}: an element-wise activation with its parameter (slope of leaky relu,
 *     alpha of elu);</li>
 * <li>noise, applied in training only (at inference the layer passes its input through):
 *     {@code GAUSSIAN_NOISE} adds N(0, parameter^2); {@code MASKING_NOISE} sets each value to 0
 *     with probability {@code parameter}; {@code SALT_AND_PEPPER} sets each value with probability
 *     {@code parameter} to 0 or 1 (even odds); {@code DROPOUT} zeroes with probability
 *     {@code parameter} and scales the rest by 1 / (1 - parameter);</li>
 * <li>penalties on the output of the layer before, added to the training objective (the layer
 *     passes its input through): {@code SPARSITY} is {@code weight * sum_j KL(rho || rho_j)} with
 *     rho = {@code parameter} and rho_j the batch's mean activation of unit j (outputs must be in
 *     (0, 1): it must follow a sigmoid); {@code ACTIVITY_L1} is {@code weight * sum_j |h_j|} per
 *     sample;</li>
 * <li>{@code BATCH_NORM}: batch normalization of each feature, {@code gamma * (x - mean) /
 *     sqrt(var + epsilon) + beta} with a learned scale gamma and shift beta; in training mean and
 *     var are the batch's (biased variance), at inference the running averages kept from
 *     training, each updated after an applied step as {@code (1 - momentum) * running + momentum *
 *     batch} (the unbiased batch variance for the running variance, as PyTorch);
 *     {@code parameter} is the momentum and {@code weight} the epsilon.</li>
 * </ul>
 */
public record LayerSpec(Kind kind, int units, Activation activation, float parameter, float weight) {
    /** The kinds of layer the DSL can write. */
    public enum Kind {
        DENSE, ACTIVATION, GAUSSIAN_NOISE, MASKING_NOISE, SALT_AND_PEPPER, DROPOUT, SPARSITY, ACTIVITY_L1, BATCH_NORM;

        /** True for the noise layers, which act in training only. */
        public boolean isNoise() {
            return switch (this) {
                case GAUSSIAN_NOISE, MASKING_NOISE, SALT_AND_PEPPER, DROPOUT -> true;
                case DENSE, ACTIVATION, SPARSITY, ACTIVITY_L1, BATCH_NORM -> false;
            };
        }

        /** True for the penalties, which add a term to the objective and pass their input through. */
        public boolean isPenalty() {
            return switch (this) {
                case SPARSITY, ACTIVITY_L1 -> true;
                case DENSE, ACTIVATION, GAUSSIAN_NOISE, MASKING_NOISE, SALT_AND_PEPPER, DROPOUT, BATCH_NORM -> false;
            };
        }

        /** The name in the JSON spec and in messages, e.g. "gaussian_noise". */
        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public LayerSpec {
        if (kind == null) {
            throw new IllegalArgumentException("layer kind must not be null");
        }
        switch (kind) {
            case DENSE -> {
                if (units <= 0) {
                    throw new IllegalArgumentException("dense layer needs a positive number of units, got " + units);
                }
                if (activation != null) {
                    throw new IllegalArgumentException("a dense layer carries no activation; add it as its own layer");
                }
            }
            case ACTIVATION -> {
                if (activation == null) {
                    throw new IllegalArgumentException("activation layer needs an activation");
                }
                activation.checkParameter(parameter);
            }
            case GAUSSIAN_NOISE -> {
                if (!(parameter > 0f && Float.isFinite(parameter))) {
                    throw new IllegalArgumentException("gaussianNoise(" + parameter + "): the standard deviation must be positive and finite");
                }
            }
            case MASKING_NOISE, SALT_AND_PEPPER, DROPOUT -> {
                if (!(parameter > 0f && parameter < 1f)) {
                    throw new IllegalArgumentException(kind.jsonName() + "(" + parameter + "): the probability must be in (0, 1)");
                }
            }
            case SPARSITY -> {
                if (!(parameter > 0f && parameter < 1f)) {
                    throw new IllegalArgumentException("sparsity(" + parameter + ", " + weight + "): the target rate rho must be in (0, 1)");
                }
                checkWeight("sparsity", weight);
            }
            case ACTIVITY_L1 -> checkWeight("activityL1", weight);
            case BATCH_NORM -> {
                if (!(parameter > 0f && parameter <= 1f)) {
                    throw new IllegalArgumentException("batchNorm(" + parameter + ", " + weight + "): the momentum must be in (0, 1]");
                }
                if (!(weight > 0f && Float.isFinite(weight))) {
                    throw new IllegalArgumentException("batchNorm(" + parameter + ", " + weight + "): epsilon must be positive and finite");
                }
            }
        }
    }

    private static void checkWeight(String what, float w) {
        if (!(w > 0f && Float.isFinite(w))) {
            throw new IllegalArgumentException(what + ": the penalty weight must be positive and finite, got " + w);
        }
    }

    public static LayerSpec dense(int units) {
        return new LayerSpec(Kind.DENSE, units, null, 0f, 0f);
    }

    public static LayerSpec activation(Activation a, float parameter) {
        return new LayerSpec(Kind.ACTIVATION, 0, a, parameter, 0f);
    }

    /** A noise layer (GAUSSIAN_NOISE: standard deviation; the others: probability). */
    public static LayerSpec noise(Kind kind, float amount) {
        if (!kind.isNoise()) {
            throw new IllegalArgumentException(kind + " is not a noise layer");
        }
        return new LayerSpec(kind, 0, null, amount, 0f);
    }

    public static LayerSpec sparsity(float rho, float weight) {
        return new LayerSpec(Kind.SPARSITY, 0, null, rho, weight);
    }

    public static LayerSpec activityL1(float weight) {
        return new LayerSpec(Kind.ACTIVITY_L1, 0, null, 0f, weight);
    }

    /** Batch normalization with the running statistics' momentum and the variance's epsilon (PyTorch: 0.1, 1e-5). */
    public static LayerSpec batchNorm(float momentum, float epsilon) {
        return new LayerSpec(Kind.BATCH_NORM, 0, null, momentum, epsilon);
    }

    /** True when the layer changes the width (only dense layers do). */
    public boolean isDense() {
        return kind == Kind.DENSE;
    }

    /** e.g. "dense(512)", "relu", "leaky_relu(0.01)", "dropout(0.2)", "sparsity(0.05, 3.0)". */
    public String describe() {
        return switch (kind) {
            case DENSE -> "dense(" + units + ")";
            case ACTIVATION -> switch (activation) {
                case LEAKY_RELU, ELU -> activation.name().toLowerCase(Locale.ROOT) + "(" + parameter + ")";
                case IDENTITY, RELU, TANH, SIGMOID, SOFTPLUS, EXP, LOG -> activation.name().toLowerCase(Locale.ROOT);
            };
            case GAUSSIAN_NOISE, MASKING_NOISE, SALT_AND_PEPPER, DROPOUT -> kind.jsonName() + "(" + parameter + ")";
            case SPARSITY -> "sparsity(" + parameter + ", " + weight + ")";
            case ACTIVITY_L1 -> "activity_l1(" + weight + ")";
            case BATCH_NORM -> "batch_norm(" + parameter + ", " + weight + ")";
        };
    }
}
