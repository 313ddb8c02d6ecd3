package org.latent4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.latent4j.kernel.Activation;
import org.latent4j.kernel.Activations;

/**
 * Vectorized activation kernels against their scalar twins on one thread, forward and
 * backward, over n elements (1M by default): median nanoseconds per element and the ratio.
 */
public final class ElementwiseBench {
    private ElementwiseBench() {}

    public record Result(Activation activation, String pass, int n, double vectorNsPerElement, double scalarNsPerElement) {
        public double speedup() {
            return scalarNsPerElement / vectorNsPerElement;
        }
    }

    public static List<Result> run(int n, GemmBench.Budget budget, java.util.function.Consumer<Result> onResult) {
        SplittableRandom r = new SplittableRandom(1);
        float[] x = new float[n], xPos = new float[n], y = new float[n], dy = new float[n], dx = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 8 - 4);
            xPos[i] = (float) Math.exp(r.nextDouble() * 4 - 2);
            dy[i] = (float) (r.nextDouble() * 2 - 1);
        }
        List<Result> out = new ArrayList<>();
        for (Activation act : Activation.values()) {
            float a = act == Activation.LEAKY_RELU ? 0.01f : act == Activation.ELU ? 1f : 0f;
            float[] in = act == Activation.LOG ? xPos : x;
            Activations.forward(act, a, y, 0, in, 0, n);
            double vf = time(() -> Activations.forward(act, a, y, 0, in, 0, n), n, budget);
            double sf = time(() -> Activations.forwardScalar(act, a, y, 0, in, 0, n), n, budget);
            Activations.forward(act, a, y, 0, in, 0, n);
            double vb = time(() -> Activations.backward(act, a, dx, 0, dy, 0, y, 0, n), n, budget);
            double sb = time(() -> Activations.backwardScalar(act, a, dx, 0, dy, 0, y, 0, n), n, budget);
            Result f = new Result(act, "forward", n, vf, sf);
            Result b = new Result(act, "backward", n, vb, sb);
            out.add(f);
            onResult.accept(f);
            out.add(b);
            onResult.accept(b);
        }
        return out;
    }

    /** Median ns per element of {@code body} over n elements, after a warm-up. */
    static double time(Runnable body, int n, GemmBench.Budget budget) {
        long warmEnd = System.nanoTime() + 200_000_000L;
        int calls = 0;
        while (calls < 10 || System.nanoTime() < warmEnd) {
            body.run();
            calls++;
        }
        double[] t = new double[Math.max(5, budget.reps())];
        for (int i = 0; i < t.length; i++) {
            long s = System.nanoTime();
            body.run();
            t[i] = (double) (System.nanoTime() - s) / n;
        }
        return GemmBench.median(t);
    }
}
