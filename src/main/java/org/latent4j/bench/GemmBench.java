package org.latent4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.GemmNaive;
import org.latent4j.kernel.Parallelism;

/**
 * Measures {@link Gemm} in GFLOPS on a list of shapes and thread counts, beside the FMA peak
 * probe (same run, same thread count) and the naive triple loop. Each figure is the median
 * of several timed repetitions after a warm-up.
 */
public final class GemmBench {
    private GemmBench() {}

    /** An M x K times K x N product. */
    public record Shape(int m, int k, int n) {
        public Shape {
            if (m <= 0 || k <= 0 || n <= 0) {
                throw new IllegalArgumentException("shape dimensions must be positive, got " + m + "x" + k + "x" + n);
            }
        }

        public double flops() {
            return 2.0 * m * k * n;
        }

        /** "MxKxN". */
        @Override
        public String toString() {
            return m + "x" + k + "x" + n;
        }

        /** Parses "MxKxN". */
        public static Shape parse(String s) {
            String[] p = s.trim().toLowerCase().split("x");
            if (p.length != 3) {
                throw new IllegalArgumentException("shape must look like MxKxN (e.g. 128x784x512), got '" + s + "'");
            }
            try {
                return new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("shape must look like MxKxN (e.g. 128x784x512), got '" + s + "'");
            }
        }
    }

    /** The shapes of the engine-core issue: the W1 layers and square sizes. */
    public static final List<Shape> DEFAULT_SHAPES = List.of(
            new Shape(128, 784, 512), new Shape(128, 512, 256), new Shape(128, 256, 784),
            new Shape(512, 512, 512), new Shape(1024, 1024, 1024), new Shape(2048, 2048, 2048));

    /** One measured row; {@code openblasGflops} is NaN when the peer was not measured. */
    public record Result(Shape shape, int threads, double gflops, double peakGflops, double naiveGflops, double openblasGflops) {}

    /** Timing budget: probe milliseconds, minimum milliseconds per timed repetition, repetitions, naive milliseconds. */
    public record Budget(int probeMillis, int minMillisPerRep, int reps, int naiveMillis) {
        public static final Budget FULL = new Budget(300, 200, 7, 1000);
        public static final Budget QUICK = new Budget(100, 40, 3, 150);
    }

    /**
     * Measures every shape at every thread count: for each thread count the FMA probe first,
     * then the peer (if any), then ours, then the naive loop (once per shape, single-threaded).
     */
    public static List<Result> run(List<Shape> shapes, int[] threadCounts, Budget budget,
                                   java.util.function.IntFunction<java.util.Map<String, Double>> peer,
                                   java.util.function.Consumer<Result> onResult) {
        List<Result> out = new ArrayList<>();
        java.util.Map<Shape, Double> naive = new java.util.HashMap<>();
        for (int threads : threadCounts) {
            try (Parallelism par = Parallelism.of(threads)) {
                double peak = FmaProbe.peakGflops(par, threads, budget.probeMillis(), 5);
                java.util.Map<String, Double> peerGflops = peer == null ? java.util.Map.of() : peer.apply(threads);
                Gemm gemm = new Gemm(par);
                for (Shape s : shapes) {
                    double g = measure(gemm, s, budget);
                    double nv = naive.computeIfAbsent(s, sh -> measureNaive(sh, budget));
                    Result r = new Result(s, threads, g, peak, nv, peerGflops.getOrDefault(s.toString(), Double.NaN));
                    out.add(r);
                    onResult.accept(r);
                }
            }
        }
        return out;
    }

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** Median GFLOPS of {@link Gemm} on one shape. */
    public static double measure(Gemm gemm, Shape s, Budget budget) {
        float[] a = random(s.m() * s.k(), 1);
        float[] b = random(s.k() * s.n(), 2);
        float[] c = new float[s.m() * s.n()];
        Runnable call = () -> gemm.gemm(c, 0, s.n(), false, false, s.m(), s.n(), s.k(), 1f, a, 0, s.k(), b, 0, s.n(), 0f);
        return s.flops() / medianSeconds(call, budget, 5) / 1e9;   // 5 calls at least: enough for C2 to compile the micro-kernel
    }

    /**
     * Median seconds per call of {@code call}: a warm-up of at least {@code minWarmCalls} calls and
     * 300 ms (at most 200 calls), then {@code budget.reps()} repetitions of enough calls to last
     * {@code budget.minMillisPerRep()} each. The GEMM and convolution benchmarks both time this way.
     */
    public static double medianSeconds(Runnable call, Budget budget, int minWarmCalls) {
        long warmEnd = System.nanoTime() + 300_000_000L;
        int calls = 0;
        while (calls < minWarmCalls || System.nanoTime() < warmEnd && calls < 200) {
            call.run();
            calls++;
        }
        long t0 = System.nanoTime();
        call.run();
        double one = Math.max(1e-6, (System.nanoTime() - t0) / 1e9);
        int perRep = (int) Math.max(1, Math.ceil(budget.minMillisPerRep() / 1e3 / one));
        double[] t = new double[budget.reps()];
        for (int r = 0; r < t.length; r++) {
            long s0 = System.nanoTime();
            for (int i = 0; i < perRep; i++) {
                call.run();
            }
            t[r] = (System.nanoTime() - s0) / 1e9 / perRep;
        }
        return median(t);
    }

    /**
     * GFLOPS of the naive triple loop. For large shapes it is timed on the first rows of C only
     * (the loop does the same work per row), so the floor costs about {@code naiveMillis}.
     */
    public static double measureNaive(Shape s, Budget budget) {
        double perRowFlops = 2.0 * s.k() * s.n();
        // Assume ~1 GFLOPS to size the slice; the figure itself is measured.
        int rows = (int) Math.max(1, Math.min(s.m(), budget.naiveMillis() * 1e-3 * 1e9 / perRowFlops / 3));
        float[] a = random(rows * s.k(), 1);
        float[] b = random(s.k() * s.n(), 2);
        float[] c = new float[rows * s.n()];
        int warmRows = Math.max(1, rows / 4);
        GemmNaive.gemm(c, 0, s.n(), false, false, warmRows, s.n(), s.k(), 1f, a, 0, s.k(), b, 0, s.n(), 0f);
        double[] g = new double[3];
        for (int r = 0; r < g.length; r++) {
            long t0 = System.nanoTime();
            GemmNaive.gemm(c, 0, s.n(), false, false, rows, s.n(), s.k(), 1f, a, 0, s.k(), b, 0, s.n(), 0f);
            g[r] = perRowFlops * rows / ((System.nanoTime() - t0) / 1e9) / 1e9;
        }
        return median(g);
    }

    public static double median(double[] x) {
        double[] y = x.clone();
        Arrays.sort(y);
        int n = y.length;
        return n % 2 == 1 ? y[n / 2] : 0.5 * (y[n / 2 - 1] + y[n / 2]);
    }
}
