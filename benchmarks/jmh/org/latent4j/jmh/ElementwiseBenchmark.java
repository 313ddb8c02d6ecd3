package org.latent4j.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.latent4j.kernel.Activation;
import org.latent4j.kernel.Activations;
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
import org.openjdk.jmh.annotations.Warmup;

/** Vectorized activations against their scalar twins, one thread, 1M floats. Score: us per call. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = JmhSettings.VECTOR_MODULE)
public class ElementwiseBenchmark {
    @Param({"RELU", "LEAKY_RELU", "ELU", "TANH", "SIGMOID", "SOFTPLUS", "EXP", "LOG"})
    public Activation activation;

    @Param({"1000000"})
    public int size;

    float[] x, y, dy, dx;
    float param;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom r = new SplittableRandom(1);
        x = new float[size];
        y = new float[size];
        dy = new float[size];
        dx = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = activation == Activation.LOG ? (float) Math.exp(r.nextDouble() * 4 - 2) : (float) (r.nextDouble() * 8 - 4);
            dy[i] = (float) (r.nextDouble() * 2 - 1);
        }
        param = activation == Activation.LEAKY_RELU ? 0.01f : activation == Activation.ELU ? 1f : 0f;
        Activations.forward(activation, param, y, 0, x, 0, size);
    }

    @Benchmark
    public float[] forwardVector() {
        Activations.forward(activation, param, y, 0, x, 0, size);
        return y;
    }

    @Benchmark
    public float[] forwardScalar() {
        Activations.forwardScalar(activation, param, y, 0, x, 0, size);
        return y;
    }

    @Benchmark
    public float[] backwardVector() {
        Activations.backward(activation, param, dx, 0, dy, 0, y, 0, size);
        return dx;
    }

    @Benchmark
    public float[] backwardScalar() {
        Activations.backwardScalar(activation, param, dx, 0, dy, 0, y, 0, size);
        return dx;
    }
}
