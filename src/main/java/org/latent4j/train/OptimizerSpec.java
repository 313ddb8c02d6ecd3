package org.latent4j.train;

/**
 * An optimizer and its hyper-parameters. {@code weightDecay} is decoupled (AdamW) for ADAMW and
 * an L2 term added to the gradient for the others.
 */
public record OptimizerSpec(Kind kind, float learningRate, float momentum, boolean nesterov,
                            float beta1, float beta2, float epsilon, float weightDecay) {
    public enum Kind { SGD, ADAM, ADAMW, RMSPROP }

    public OptimizerSpec {
        if (kind == null) {
            throw new IllegalArgumentException("optimizer kind must not be null");
        }
        check("learning rate", learningRate, 0, 10, false);
        check("momentum", momentum, 0, 1, true);
        check("beta1", beta1, 0, 1, true);
        check("beta2", beta2, 0, 1, true);
        check("epsilon", epsilon, 0, 1, false);
        check("weight decay", weightDecay, 0, 1, true);
        if (nesterov && momentum == 0f) {
            throw new IllegalArgumentException("Nesterov momentum needs a momentum above 0");
        }
    }

    private static void check(String name, float v, float lo, float hi, boolean zeroOk) {
        if (!(v >= lo && v < hi) || (!zeroOk && v == 0f)) {
            throw new IllegalArgumentException(name + " must be in " + (zeroOk ? "[" : "(") + lo + ", " + hi + "), got " + v);
        }
    }

    public static OptimizerSpec sgd(float lr) {
        return new OptimizerSpec(Kind.SGD, lr, 0f, false, 0.9f, 0.999f, 1e-8f, 0f);
    }

    public static OptimizerSpec sgd(float lr, float momentum, boolean nesterov) {
        return new OptimizerSpec(Kind.SGD, lr, momentum, nesterov, 0.9f, 0.999f, 1e-8f, 0f);
    }

    public static OptimizerSpec adam(float lr) {
        return new OptimizerSpec(Kind.ADAM, lr, 0f, false, 0.9f, 0.999f, 1e-8f, 0f);
    }

    public static OptimizerSpec adamW(float lr, float weightDecay) {
        return new OptimizerSpec(Kind.ADAMW, lr, 0f, false, 0.9f, 0.999f, 1e-8f, weightDecay);
    }

    public static OptimizerSpec rmsprop(float lr) {
        return new OptimizerSpec(Kind.RMSPROP, lr, 0f, false, 0.9f, 0.99f, 1e-8f, 0f);
    }
}
