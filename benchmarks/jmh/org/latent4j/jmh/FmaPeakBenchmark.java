package org.latent4j.jmh;

import java.util.concurrent.TimeUnit;
import org.latent4j.bench.FmaProbe;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The FMA peak probe: 12 independent vector accumulators. Score in ops/us where one op is one
 * vector FMA; GFLOPS = score * 1e6 * 2 * lanes / 1e9 (lanes: 8 for AVX2, 16 for AVX-512).
 * {@code perCore} runs on one thread, {@code allCores} on two.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = JmhSettings.VECTOR_MODULE)
public class FmaPeakBenchmark {
    static final int ITERATIONS = 100_000;

    float seed = 1f;

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(ITERATIONS * 12)
    public float perCore() {
        return FmaProbe.run(ITERATIONS, seed);
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(ITERATIONS * 12)
    public float allCores() {
        return FmaProbe.run(ITERATIONS, seed);
    }
}
