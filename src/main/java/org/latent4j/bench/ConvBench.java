package org.latent4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.latent4j.kernel.Conv2d;
import org.latent4j.kernel.ConvShape;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Parallelism;

/**
 * Measures {@link Conv2d} in GFLOPS (2 x multiply-adds of the convolution, zero padding included,
 * the same count for each pass) on the W2 layers, for the forward, the data gradient and the
 * weight gradient (with db), beside the FMA peak probe (same run, same thread count). Each figure
 * is the median of several timed repetitions after a warm-up, as in {@link GemmBench}.
 */
public final class ConvBench {
    private ConvBench() {}

    /** A named layer. */
    public record Layer(String name, ConvShape shape) {}

    /** The convolution layers of the W2 workload (a convolutional VAE on 28x28 images). */
    public static final List<Layer> W2_LAYERS = List.of(
            new Layer("conv 1x28x28->32 k4 s2 p1", ConvShape.conv2d(1, 28, 28, 32, 4, 2, 1)),
            new Layer("conv 32x14x14->64 k4 s2 p1", ConvShape.conv2d(32, 14, 14, 64, 4, 2, 1)),
            new Layer("convT 64x7x7->32 k4 s2 p1", ConvShape.convTranspose2d(64, 7, 7, 32, 4, 2, 1)),
            new Layer("convT 32x14x14->1 k4 s2 p1", ConvShape.convTranspose2d(32, 14, 14, 1, 4, 2, 1)));

    /** The three passes of a layer. */
    public enum Pass {
        FORWARD("forward"), DATA("backward-data"), WEIGHTS("backward-weights");

        private final String label;

        Pass(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** One measured row: median GFLOPS and milliseconds per call. */
    public record Result(Layer layer, Pass pass, int batch, int threads, double gflops, double millis, double peakGflops) {}

    /** Measures every layer and pass at every thread count, the FMA probe first for each thread count. */
    public static List<Result> run(List<Layer> layers, int batch, int[] threadCounts, GemmBench.Budget budget, Consumer<Result> onResult) {
        // Warm-up of every kernel first: the first layer measured on a cold JVM was 4 x slower
        // than the same layer measured again after the others, 300 ms of its own warm-up notwithstanding.
        Gemm.warmUp();
        measure(layers, batch, new int[] {1}, budget, true, r -> { });
        return measure(layers, batch, threadCounts, budget, false, onResult);
    }

    private static List<Result> measure(List<Layer> layers, int batch, int[] threadCounts, GemmBench.Budget budget, boolean warmUpOnly,
                                        Consumer<Result> onResult) {
        List<Result> out = new ArrayList<>();
        for (int threads : threadCounts) {
            try (Parallelism par = Parallelism.of(threads)) {
                double peak = warmUpOnly ? Double.NaN : FmaProbe.peakGflops(par, threads, budget.probeMillis(), 5);
                Conv2d conv = new Conv2d(par);
                for (Layer l : layers) {
                    ConvShape s = l.shape();
                    float[] x = GemmBench.random(batch * s.inSize(), 1);
                    float[] w = GemmBench.random(s.weightSize(), 2);
                    float[] b = GemmBench.random(s.outChannels(), 3);
                    float[] dy = GemmBench.random(batch * s.outSize(), 4);
                    float[] y = new float[batch * s.outSize()];
                    float[] dx = new float[batch * s.inSize()];
                    float[] dw = new float[s.weightSize()];
                    float[] db = new float[s.outChannels()];
                    float[] scratch = new float[Conv2d.scratchSize(s, batch, threads)];
                    double flops = s.flops() * batch;
                    for (Pass p : Pass.values()) {
                        Runnable call = switch (p) {
                            case FORWARD -> () -> conv.forward(y, 0, x, 0, w, 0, b, 0, s, batch, scratch);
                            case DATA -> () -> conv.backwardData(dx, 0, false, dy, 0, w, 0, s, batch, scratch);
                            case WEIGHTS -> () -> conv.backwardWeights(dw, 0, db, 0, x, 0, dy, 0, s, batch, scratch);
                        };
                        if (warmUpOnly) {
                            for (int i = 0; i < 20; i++) {
                                call.run();
                            }
                            continue;
                        }
                        double sec = GemmBench.medianSeconds(call, budget, 20);   // until C2 has compiled the GEMM and im2row loops a call runs many times slower
                        Result r = new Result(l, p, batch, threads, flops / sec / 1e9, sec * 1e3, peak);
                        out.add(r);
                        onResult.accept(r);
                    }
                }
            }
        }
        return out;
    }
}
