package org.latent4j.cli;

import org.latent4j.bench.GemmBench;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Simd;

/** Temporary entry point while the CLI is being built. */
public final class Main {
    public static void main(String[] args) {
        System.out.println(Simd.describe() + " MR=" + Gemm.MR + " NR=" + Gemm.NR + " KC=" + Gemm.KC + " MC=" + Gemm.MC);
        int[] threads = args.length > 0 ? java.util.Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray() : new int[] {1};
        GemmBench.run(GemmBench.DEFAULT_SHAPES, threads, GemmBench.Budget.QUICK,
                r -> System.out.printf("%-16s t=%d %7.1f GFLOPS  peak %6.1f (%4.1f%%)  naive %5.2f%n",
                        r.shape(), r.threads(), r.gflops(), r.peakGflops(), 100 * r.gflops() / r.peakGflops(), r.naiveGflops()));
    }
}
