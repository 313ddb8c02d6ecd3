package org.latent4j.dsl;

import org.latent4j.kernel.Activation;

/**
 * One layer of a model spec: a dense (fully connected) layer of {@code units} outputs, or an
 * element-wise activation with its parameter (slope of leaky relu, alpha of elu).
 */
public record LayerSpec(Kind kind, int units, Activation activation, float parameter) {
    /** The kinds of layer the DSL can write. */
    public enum Kind { DENSE, ACTIVATION }

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
        }
    }

    public static LayerSpec dense(int units) {
        return new LayerSpec(Kind.DENSE, units, null, 0f);
    }

    public static LayerSpec activation(Activation a, float parameter) {
        return new LayerSpec(Kind.ACTIVATION, 0, a, parameter);
    }

    /** e.g. "dense(512)", "relu", "leaky_relu(0.01)". */
    public String describe() {
        return switch (kind) {
            case DENSE -> "dense(" + units + ")";
            case ACTIVATION -> switch (activation) {
                case LEAKY_RELU, ELU -> activation.name().toLowerCase(java.util.Locale.ROOT) + "(" + parameter + ")";
                case IDENTITY, RELU, TANH, SIGMOID, SOFTPLUS, EXP, LOG -> activation.name().toLowerCase(java.util.Locale.ROOT);
            };
        };
    }
}
