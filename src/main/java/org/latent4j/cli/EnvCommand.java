package org.latent4j.cli;

import java.util.concurrent.Callable;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Simd;
import picocli.CommandLine.Command;

/** Prints what the engine will use on this machine. */
@Command(name = "env", description = "Show the JDK, SIMD width, threads and GEMM blocking the engine uses here.")
final class EnvCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("java      " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")");
        System.out.println("simd      " + Simd.describe() + "   (override: -D" + Simd.VECTOR_BITS_PROPERTY + "=128|256|512)");
        System.out.println("threads   " + Parallelism.defaultThreads() + "   (override: -D" + Parallelism.THREADS_PROPERTY + "=N)");
        System.out.println("gemm      register tile " + Gemm.MR + "x" + Gemm.NR + ", k block <= " + Gemm.KC + ", rows per L2 block " + Gemm.MC);
        return 0;
    }
}
