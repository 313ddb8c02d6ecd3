package org.latent4j.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Simd;

/**
 * Peak FMA throughput of this machine on the engine's vector species: 12 independent
 * accumulators (enough to hide a 5-cycle FMA latency on two FMA pipes, and with the two
 * operands still within the 16 registers of AVX2, so nothing spills), no memory traffic.
 * This is the ceiling the GEMM figures are measured against.
 */
public final class FmaProbe {
    private FmaProbe() {}

    private static final VectorSpecies<Float> S = Simd.FLOAT;

    /** Runs {@code iterations} rounds of 12 vector FMAs; returns a value that depends on all of them. */
    public static float run(long iterations, float seed) {
        FloatVector x = FloatVector.broadcast(S, 1e-3f); // a_i += x*y: the accumulator is the addend, as in GEMM
        FloatVector y = FloatVector.broadcast(S, 1e-4f);
        FloatVector a0 = FloatVector.broadcast(S, seed), a1 = a0.add(1f), a2 = a0.add(2f), a3 = a0.add(3f);
        FloatVector a4 = a0.add(4f), a5 = a0.add(5f), a6 = a0.add(6f), a7 = a0.add(7f);
        FloatVector a8 = a0.add(8f), a9 = a0.add(9f), a10 = a0.add(10f), a11 = a0.add(11f);
        for (long i = 0; i < iterations; i++) {
            a0 = x.fma(y, a0); a1 = x.fma(y, a1); a2 = x.fma(y, a2); a3 = x.fma(y, a3);
            a4 = x.fma(y, a4); a5 = x.fma(y, a5); a6 = x.fma(y, a6); a7 = x.fma(y, a7);
            a8 = x.fma(y, a8); a9 = x.fma(y, a9); a10 = x.fma(y, a10); a11 = x.fma(y, a11);
        }
        FloatVector s = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7)
                .add(a8).add(a9).add(a10).add(a11);
        return s.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /** FLOPs done by {@link #run} for the given iterations. */
    public static double flops(long iterations) {
        return iterations * 12.0 * S.length() * 2.0;
    }

    /**
     * Measures peak GFLOPS with {@code threads} threads each running the probe at once
     * (median of {@code repeats} runs of about {@code millis} ms each, like the GEMM figures).
     */
    public static double peakGflops(Parallelism par, int threads, int millis, int repeats) {
        // Warm up until C2 has compiled the loop, and size the run to about `millis`.
        long iters = 1 << 16;
        float sink = 0;
        for (int w = 0; w < 30; w++) {
            sink += run(iters, w);
        }
        long t0 = System.nanoTime();
        sink += run(iters, 1);
        long dt = Math.max(1, System.nanoTime() - t0);
        long target = Math.max(iters, (long) (iters * (millis * 1e6 / dt)));
        final long n = target;
        double[] g = new double[repeats];
        float[] sinks = new float[threads];
        for (int r = 0; r < repeats; r++) {
            long s = System.nanoTime();
            par.forEach(threads, t -> sinks[t] += run(n, t));
            double sec = (System.nanoTime() - s) / 1e9;
            g[r] = threads * flops(n) / sec / 1e9;
        }
        if (Float.isNaN(sink + sinks[0])) {
            System.err.print("");
        }
        return GemmBench.median(g);
    }
}
