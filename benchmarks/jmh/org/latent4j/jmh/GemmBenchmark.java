package org.latent4j.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.GemmNaive;
import org.latent4j.kernel.Parallelism;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * GEMM C = A*B (row-major float32) at the engine-core shapes. Score: microseconds per call;
 * GFLOPS = 2 M K N / (score * 1e3). `./latent4j bench gemm` prints GFLOPS directly, beside
 * the FMA peak and OpenBLAS.
 *
 * <p>Run: {@code ./latent4j jmh GemmBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = JmhSettings.VECTOR_MODULE)
public class GemmBenchmark {
    @Param({"128x784x512", "128x512x256", "128x256x784", "512x512x512", "1024x1024x1024", "2048x2048x2048"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    int m, k, n;
    float[] a, b, c;
    Parallelism parallelism;
    Gemm gemm;

    @Setup(Level.Trial)
    public void setUp() {
        String[] p = shape.split("x");
        m = Integer.parseInt(p[0]);
        k = Integer.parseInt(p[1]);
        n = Integer.parseInt(p[2]);
        SplittableRandom r = new SplittableRandom(1);
        a = new float[m * k];
        b = new float[k * n];
        c = new float[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextDouble();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) r.nextDouble();
        }
        parallelism = Parallelism.of(threads);
        gemm = new Gemm(parallelism);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        parallelism.close();
    }

    @Benchmark
    public void packed(Blackhole bh) {
        gemm.gemm(c, 0, n, false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f);
        bh.consume(c);
    }

    /** The naive triple loop: the floor. Only meaningful at 1 thread; slow at large shapes. */
    @Benchmark
    @Measurement(iterations = 2, time = 1)
    @Warmup(iterations = 1, time = 1)
    public void naive(Blackhole bh) {
        if (threads != 1 || (long) m * n * k > 600_000_000L) {
            return; // skipped: the floor is measured once, on the shapes it finishes in time
        }
        GemmNaive.gemm(c, 0, n, false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f);
        bh.consume(c);
    }
}
