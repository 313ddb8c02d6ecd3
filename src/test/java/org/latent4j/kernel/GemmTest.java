package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Gemm} against a plain double-precision triple loop.
 *
 * <p>Tolerance per element: |c - ref| <= 2 (k + 2) u (|alpha| sum_p |a_ip b_pj| + |beta c_ij|) + 1e-30,
 * with u = 2^-24 the float unit round-off (the standard forward error bound of a float dot product).
 */
class GemmTest {
    static Parallelism two;
    static Parallelism three;

    @BeforeAll
    static void pools() {
        two = Parallelism.of(2);
        three = Parallelism.of(3);
    }

    @AfterAll
    static void close() {
        two.close();
        three.close();
    }

    static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** A case: op(A) is m x k, op(B) is k x n, stored with padding and offsets. */
    record Case(int m, int n, int k, boolean ta, boolean tb, float alpha, float beta,
                float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c0, int cOff, int ldc) {
        static Case make(SplittableRandom r, int m, int n, int k, boolean ta, boolean tb, float alpha, float beta) {
            int aRows = ta ? k : m, aCols = ta ? m : k;
            int bRows = tb ? n : k, bCols = tb ? k : n;
            int lda = aCols + r.nextInt(3), ldb = bCols + r.nextInt(3), ldc = n + r.nextInt(3);
            int aOff = r.nextInt(4), bOff = r.nextInt(4), cOff = r.nextInt(4);
            return new Case(m, n, k, ta, tb, alpha, beta,
                    random(r, aOff + (aRows - 1) * lda + aCols), aOff, lda,
                    random(r, bOff + (bRows - 1) * ldb + bCols), bOff, ldb,
                    random(r, cOff + (m - 1) * ldc + n + 2), cOff, ldc);
        }

        double opA(int i, int p) {
            return ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        }

        double opB(int p, int j) {
            return tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        }

        float[] run(Gemm g) {
            float[] c = c0.clone();
            g.gemm(c, cOff, ldc, ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta);
            return c;
        }

        void check(float[] c, String label) {
            double u = Math.ulp(1.0f) / 2;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0, abs = 0;
                    for (int p = 0; p < k; p++) {
                        s += opA(i, p) * opB(p, j);
                        abs += Math.abs(opA(i, p) * opB(p, j));
                    }
                    int ci = cOff + i * ldc + j;
                    double ref = alpha * s + (beta == 0 ? 0 : beta * c0[ci]);
                    double tol = 2 * (k + 2) * u * (Math.abs(alpha) * abs + Math.abs(beta * c0[ci])) + 1e-30;
                    double err = Math.abs(c[ci] - ref);
                    if (!(err <= tol)) {
                        throw new AssertionError(label + ": C[" + i + "][" + j + "] = " + c[ci] + " but reference is " + ref
                                + " (error " + err + " > tolerance " + tol + ")");
                    }
                }
            }
            // Padding between rows and after the matrix is never touched.
            for (int i = 0; i < c.length; i++) {
                int r = (i - cOff) / ldc, col = (i - cOff) % ldc;
                boolean inside = i >= cOff && r < m && col < n;
                if (!inside) {
                    assertEquals(c0[i], c[i], label + ": element " + i + " outside C was written");
                }
            }
        }
    }

    @Test
    void matchesDoubleReferenceOnAwkwardShapes() {
        SplittableRandom r = new SplittableRandom(42);
        int[] dims = {1, 2, 3, 5, 7, 13, 16, 17, 31, 33, 64, 97};
        Gemm serial = new Gemm(Parallelism.serial());
        Gemm par = new Gemm(two);
        int cases = 0;
        for (int t = 0; t < 160; t++) {
            int m = dims[r.nextInt(dims.length)], n = dims[r.nextInt(dims.length)], k = dims[r.nextInt(dims.length)];
            boolean ta = r.nextBoolean(), tb = r.nextBoolean();
            float alpha = r.nextInt(4) == 0 ? 1f : (float) (r.nextDouble() * 4 - 2);
            float beta = switch (r.nextInt(3)) { case 0 -> 0f; case 1 -> 1f; default -> (float) (r.nextDouble() * 2 - 1); };
            Case c = Case.make(r, m, n, k, ta, tb, alpha, beta);
            String label = m + "x" + k + "x" + n + " ta=" + ta + " tb=" + tb + " alpha=" + alpha + " beta=" + beta;
            c.check(c.run(serial), label + " (1 thread)");
            c.check(c.run(par), label + " (2 threads)");
            cases++;
        }
        assertEquals(160, cases);
    }

    @Test
    void deepAndWideShapesCrossBlockBoundaries() {
        // k beyond two k blocks (uneven split), m beyond one MC block, n beyond many panels.
        SplittableRandom r = new SplittableRandom(7);
        Gemm g = new Gemm(two);
        int[][] shapes = {{Gemm.MC + 5, 37, 2 * Gemm.KC + 17}, {3, 301, 600}, {129, 257, 784}};
        for (int[] s : shapes) {
            for (int ops = 0; ops < 4; ops++) {
                Case c = Case.make(r, s[0], s[1], s[2], (ops & 1) != 0, (ops & 2) != 0, 1.5f, 0.5f);
                c.check(c.run(g), s[0] + "x" + s[2] + "x" + s[1] + " ops=" + ops);
            }
        }
    }

    @Test
    void bitwiseIdenticalForOneTwoAndThreeThreads() {
        SplittableRandom r = new SplittableRandom(3);
        int[][] shapes = {{128, 512, 784}, {61, 83, 515}, {300, 200, 100}, {1, 784, 512}};
        for (int[] s : shapes) {
            for (int ops = 0; ops < 4; ops++) {
                Case c = Case.make(r, s[0], s[1], s[2], (ops & 1) != 0, (ops & 2) != 0, 0.75f, 0.25f);
                float[] one = c.run(new Gemm(Parallelism.serial()));
                float[] t2 = c.run(new Gemm(two));
                float[] t3 = c.run(new Gemm(three));
                assertArrayEquals(one, t2, "2 threads differ from 1 on " + s[0] + "x" + s[2] + "x" + s[1]);
                assertArrayEquals(one, t3, "3 threads differ from 1 on " + s[0] + "x" + s[2] + "x" + s[1]);
            }
        }
    }

    @Test
    void everyWayOfSharingAProductGivesTheSerialBits() {
        // Small products: each task packs its own panels (by columns, or by rows, also with B packed
        // beforehand); large ones: the threads pack together, then compute. Shapes chosen so that every
        // way runs on any machine (the split depends on the L2 size), at 2 and 3 threads, with edge panels.
        SplittableRandom r = new SplittableRandom(5);
        int[][] shapes = {{16, 64, 700}, {21, 70, 301}, {700, 64, 16}, {333, 45, 20}, {600, 1000, 600}, {128, 256, 784}, {2, 10, 3}};
        java.util.EnumSet<Gemm.Sharing> seen = java.util.EnumSet.noneOf(Gemm.Sharing.class);
        for (int[] s : shapes) {
            for (int ops = 0; ops < 4; ops++) {
                Case c = Case.make(r, s[0], s[2], s[1], (ops & 1) != 0, (ops & 2) != 0, 0.5f, ops == 0 ? 0f : 0.75f);
                float[] one = c.run(new Gemm(Parallelism.serial()));
                for (Parallelism p : new Parallelism[] {two, three}) {
                    Gemm g = new Gemm(p);
                    assertArrayEquals(one, c.run(g), p + " differs from 1 thread on " + s[0] + "x" + s[1] + "x" + s[2] + " ops=" + ops);
                    seen.add(g.lastSharing());
                    if ((ops & 1) == 0) {
                        float[] packed = Gemm.packB((ops & 2) != 0, c.k(), c.n(), c.b(), c.bOff(), c.ldb());
                        float[] got = c.c0().clone();
                        g.gemmPacked(got, c.cOff(), c.ldc(), false, c.m(), c.n(), c.k(), 0.5f, c.a(), c.aOff(), c.lda(), packed, ops == 0 ? 0f : 0.75f);
                        assertArrayEquals(one, got, p + ", B packed beforehand, differs on " + s[0] + "x" + s[1] + "x" + s[2] + " ops=" + ops);
                        seen.add(g.lastSharing());
                    }
                }
            }
        }
        assertEquals(java.util.EnumSet.of(Gemm.Sharing.TWO_PHASE, Gemm.Sharing.BY_COLUMNS, Gemm.Sharing.BY_ROWS), seen,
                "each way of sharing a product between threads is exercised");
    }

    @Test
    void anApplicationsOwnPoolGivesTheSameBitsAndIsLeftRunning() throws Exception {
        SplittableRandom r = new SplittableRandom(13);
        Case c = Case.make(r, 70, 90, 300, false, true, 1f, 0f);
        java.util.concurrent.ForkJoinPool own = new java.util.concurrent.ForkJoinPool(2);
        try {
            float[] viaOwn;
            try (Parallelism p = Parallelism.using(own)) {
                viaOwn = c.run(new Gemm(p));
            }
            assertTrue(!own.isShutdown(), "close() must not shut down the application's pool");
            assertArrayEquals(c.run(new Gemm(Parallelism.serial())), viaOwn);
            // Called from inside the application's pool (e.g. a Spark task on a worker thread).
            float[] inside = own.submit(() -> c.run(new Gemm(Parallelism.using(own)))).get();
            assertArrayEquals(viaOwn, inside);
        } finally {
            own.shutdown();
        }
    }

    @Test
    void reusedInstanceGivesTheSameResultAsAFreshOne() {
        SplittableRandom r = new SplittableRandom(11);
        Gemm reused = new Gemm(two);
        Case big = Case.make(r, 200, 150, 300, false, false, 1f, 0f);
        big.run(reused); // grows the buffers
        Case small = Case.make(r, 9, 10, 11, true, false, 1f, 0f);
        assertArrayEquals(small.run(new Gemm(two)), small.run(reused));
    }

    @Test
    void prepackedBGivesBitwiseTheSameResult() {
        SplittableRandom r = new SplittableRandom(21);
        for (int[] s : new int[][] {{1, 512, 784}, {5, 33, 70}, {128, 256, 512}}) {
            for (boolean tb : new boolean[] {false, true}) {
                Case c = Case.make(r, s[0], s[1], s[2], false, tb, 1f, 0.5f);
                float[] expect = c.run(new Gemm(two));
                float[] packed = Gemm.packB(tb, c.k(), c.n(), c.b(), c.bOff(), c.ldb());
                float[] got = c.c0().clone();
                new Gemm(two).gemmPacked(got, c.cOff(), c.ldc(), false, c.m(), c.n(), c.k(), 1f, c.a(), c.aOff(), c.lda(), packed, 0.5f);
                assertArrayEquals(expect, got, s[0] + "x" + s[2] + "x" + s[1] + " tb=" + tb);
                // Packed into a caller's buffer at an offset (between garbage), shared read-only.
                int size = Gemm.packedBSize(c.k(), c.n());
                float[] buffer = new float[size + 37];
                java.util.Arrays.fill(buffer, Float.NaN);
                Gemm.packB(buffer, 17, tb, c.k(), c.n(), c.b(), c.bOff(), c.ldb());
                float[] got2 = c.c0().clone();
                new Gemm(two).gemmPacked(got2, c.cOff(), c.ldc(), false, c.m(), c.n(), c.k(), 1f, c.a(), c.aOff(), c.lda(), buffer, 17, 0.5f);
                assertArrayEquals(expect, got2, "packed at an offset: " + s[0] + "x" + s[2] + "x" + s[1] + " tb=" + tb);
            }
        }
        var off = assertThrows(IllegalArgumentException.class, () -> new Gemm(Parallelism.serial())
                .gemmPacked(new float[4], 0, 2, false, 2, 2, 2, 1f, new float[4], 0, 2, new float[Gemm.packedBSize(2, 2) + 3], 4, 0f));
        assertTrue(off.getMessage().contains("at offset 4"), off.getMessage());
        var e = assertThrows(IllegalArgumentException.class, () -> new Gemm(Parallelism.serial())
                .gemmPacked(new float[4], 0, 2, false, 2, 2, 2, 1f, new float[4], 0, 2, new float[3], 0f));
        assertTrue(e.getMessage().contains("packed B has 3 floats"), e.getMessage());
    }

    @Test
    void betaZeroDoesNotReadC() {
        float[] a = {1, 2, 3, 4}, b = {1, 0, 0, 1};
        float[] c = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
        new Gemm(Parallelism.serial()).gemm(c, 0, 2, false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f);
        assertArrayEquals(new float[] {1, 2, 3, 4}, c);
    }

    @Test
    void nanPropagatesToItsRowAndOnlyThere() {
        SplittableRandom r = new SplittableRandom(5);
        int m = 20, n = 40, k = 30;
        float[] a = random(r, m * k), b = random(r, k * n), c = new float[m * n];
        a[7 * k + 3] = Float.NaN;
        new Gemm(two).gemm(c, 0, n, false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(i == 7, Float.isNaN(c[i * n + j]), "C[" + i + "][" + j + "] = " + c[i * n + j]);
            }
        }
    }

    @Test
    void naiveTwinMatchesReference() {
        SplittableRandom r = new SplittableRandom(9);
        for (int ops = 0; ops < 4; ops++) {
            Case c = Case.make(r, 13, 17, 19, (ops & 1) != 0, (ops & 2) != 0, 2f, 0.5f);
            float[] out = c.c0.clone();
            GemmNaive.gemm(out, c.cOff, c.ldc, c.ta, c.tb, c.m, c.n, c.k, c.alpha, c.a, c.aOff, c.lda, c.b, c.bOff, c.ldb, c.beta);
            c.check(out, "naive ops=" + ops);
        }
    }

    @Test
    void rejectsZeroSizeAndBadStorageWithClearMessages() {
        Gemm g = new Gemm(Parallelism.serial());
        float[] x = new float[16];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.gemm(x, 0, 4, false, false, 0, 4, 4, 1f, x, 0, 4, x, 0, 4, 0f));
        assertTrue(e.getMessage().contains("m=0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> g.gemm(x, 0, 4, false, false, 4, 4, 0, 1f, x, 0, 4, x, 0, 4, 0f));
        assertTrue(e.getMessage().contains("k=0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> g.gemm(x, 0, 4, false, false, 4, 4, 4, 1f, x, 0, 3, x, 0, 4, 0f));
        assertTrue(e.getMessage().contains("leading dimension of A is 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> g.gemm(x, 0, 4, false, false, 4, 4, 5, 1f, x, 0, 5, x, 0, 4, 0f));
        assertTrue(e.getMessage().contains("A is stored as 4x5") && e.getMessage().contains("has 16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> g.gemm(x, 1, 4, false, false, 4, 4, 4, 1f, x, 0, 4, x, 0, 4, 0f));
        assertTrue(e.getMessage().contains("C is stored as 4x4"), e.getMessage());
    }

    @Test
    void kBlocksAreEvenAndNeverDeeperThanKc() {
        assertEquals(196, Gemm.blockDepth(784));
        for (int k = 1; k < 3000; k++) {
            int d = Gemm.blockDepth(k);
            int blocks = (k + d - 1) / d;
            assertTrue(d <= Gemm.KC && blocks == (k + Gemm.KC - 1) / Gemm.KC, "k=" + k + " depth " + d);
        }
    }
}
