package org.latent4j.train;

/**
 * How a model's parameters learn from a batch, a choice of the trainer:
 * <ul>
 * <li>{@link Backprop}: one objective (the -ELBO, a reconstruction loss) differentiated through
 *     the model's graph, every parameter stepped by the optimizer ({@link Trainer#fit}; models
 *     built with {@code Model.encoder(...)});</li>
 * <li>{@link WakeSleep}: the wake-sleep algorithm of Hinton, Dayan, Frey and Neal (1995) for a
 *     Helmholtz machine ({@link HelmholtzTrainer}): wake, h ~ q(h | x) bottom up and the
 *     generative parameters ascend log p(x, h) by the local delta rule
 *     dG_l = (h_l - p(h_l | h_{l+1})) h_{l+1}^T; sleep, (x, h) ~ p dreamed top down and the
 *     recognition parameters ascend log q(h | x) at the dream, dR_l = (h_{l+1} - q(h_{l+1} | h_l)) h_l^T.
 *     Two parameter groups, each with its own optimizer state and rate;</li>
 * <li>{@link ReweightedWakeSleep}: Bornschein and Bengio (2015): K samples h^k ~ q(h | x) with
 *     normalized importance weights w_k proportional to p(x, h^k) / q(h^k | x); the generative
 *     parameters ascend sum_k w_k log p(x, h^k) (the gradient of the K-sample bound), the
 *     recognition parameters sum_k w_k log q(h^k | x) (the wake-phase q update), averaged with
 *     the sleep-phase update when {@code sleepPhase}.</li>
 * </ul>
 * The optimizer kind and its other settings come from the training config; the rates here.
 */
public sealed interface TrainingProcedure {
    /** Gradient descent on the graph's objective (the trainer's default for graph models). */
    record Backprop() implements TrainingProcedure {}

    /** Wake-sleep with the generative (wake) and recognition (sleep) learning rates. */
    record WakeSleep(float wakeRate, float sleepRate) implements TrainingProcedure {
        public WakeSleep {
            rate("wake", wakeRate);
            rate("sleep", sleepRate);
        }
    }

    /**
     * Reweighted wake-sleep with {@code samples} (K) importance samples per input, the generative
     * and recognition rates, and whether the recognition update also takes the sleep phase's.
     */
    record ReweightedWakeSleep(int samples, boolean sleepPhase, float generativeRate, float recognitionRate)
            implements TrainingProcedure {
        public ReweightedWakeSleep {
            if (samples < 1 || samples > 1024) {
                throw new IllegalArgumentException("reweighted wake-sleep takes 1 to 1024 samples per input, got " + samples);
            }
            rate("generative", generativeRate);
            rate("recognition", recognitionRate);
        }
    }

    private static void rate(String what, float r) {
        if (!(r > 0f && r < 10f)) {
            throw new IllegalArgumentException("the " + what + " learning rate must be in (0, 10), got " + r);
        }
    }
}
