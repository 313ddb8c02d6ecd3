package org.latent4j.kernel;

/**
 * The naive twin of {@link Gemm}: a plain triple loop, one thread, float accumulation.
 * Used as the floor in the GEMM benchmark; tests check {@link Gemm} against a double reference.
 */
public final class GemmNaive {
    private GemmNaive() {}

    /** Same contract as {@link Gemm#gemm}. */
    public static void gemm(float[] c, int cOff, int ldc,
                            boolean transA, boolean transB, int m, int n, int k,
                            float alpha, float[] a, int aOff, int lda,
                            float[] b, int bOff, int ldb, float beta) {
        Gemm.checkArgs(c, cOff, ldc, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0f ? alpha * s : alpha * s + beta * c[ci];
            }
        }
    }
}
