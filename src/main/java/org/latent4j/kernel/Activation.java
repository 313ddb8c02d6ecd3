package org.latent4j.kernel;

/**
 * The element-wise activations. Every derivative is written in terms of the activation's
 * output y (so a plan keeps only the output for the backward pass):
 *
 * <pre>
 * IDENTITY   y = x                        y' = 1
 * RELU       y = max(x, 0)                y' = [y > 0]
 * LEAKY_RELU y = x > 0 ? x : a x (a >= 0) y' = y > 0 ? 1 : a
 * ELU        y = x > 0 ? x : a (e^x - 1)  y' = y > 0 ? 1 : y + a     (a > 0)
 * TANH       y = tanh x                   y' = 1 - y^2
 * SIGMOID    y = 1 / (1 + e^-x)           y' = y (1 - y)
 * SOFTPLUS   y = log(1 + e^x)             y' = sigmoid(x) = 1 - e^-y
 * EXP        y = e^x                      y' = y
 * LOG        y = log x                    y' = 1 / x = e^-y
 * </pre>
 *
 * A NaN input gives a NaN output and a NaN derivative (never a silent number).
 */
public enum Activation {
    IDENTITY, RELU, LEAKY_RELU, ELU, TANH, SIGMOID, SOFTPLUS, EXP, LOG;

    /** Checks the parameter {@code a} of the activation (ignored by those without one). */
    public void checkParameter(float a) {
        switch (this) {
            case LEAKY_RELU -> {
                if (!(a >= 0f && a < 1f)) {
                    throw new IllegalArgumentException("leaky relu slope must be in [0, 1), got " + a);
                }
            }
            case ELU -> {
                if (!(a > 0f && Float.isFinite(a))) {
                    throw new IllegalArgumentException("elu alpha must be positive and finite, got " + a);
                }
            }
            case IDENTITY, RELU, TANH, SIGMOID, SOFTPLUS, EXP, LOG -> { }
        }
    }
}
