package org.latent4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM: {@code C = alpha * op(A) * op(B) + beta * C}, op in {identity, transpose}.
 *
 * <p>All matrices are row-major {@code float[]} with an offset and a leading dimension (the
 * stride between rows as stored). Both operands are packed into panels: A into panels of
 * {@link #MR} rows laid out k-major (so the micro-kernel broadcasts consecutive floats), B into
 * panels of {@link #NR} columns (so it loads whole vectors). The k dimension is cut into blocks
 * of {@link #KC}; the micro-kernel keeps an MR x NR tile of C in registers while it runs over
 * one block. Tasks own disjoint tiles of C and walk k in the same order, so the result is
 * bitwise the same for any thread count (and any vector width: each element of C is summed in
 * one lane, in k order, with fused multiply-adds).
 *
 * <p>An instance holds the packing buffers and is not thread-safe; keep one per executing plan.
 * It allocates only when a call needs more buffer than any call before.
 */
public final class Gemm {
    private static final VectorSpecies<Float> S = Simd.FLOAT;
    private static final int L = S.length();

    /**
     * Rows of the register tile. The tile is MR x 2 vectors: with 16 vector registers (AVX2,
     * 256-bit) 4 x 2 leaves room for both B vectors and the broadcast without spills; with 32
     * (AVX-512) 8 x 2.
     */
    public static final int MR = S.vectorBitSize() >= 512 ? 8 : 4;
    /** Columns of the register tile: two vectors. */
    public static final int NR = 2 * L;
    /**
     * Largest depth of a k block. Fixed (not derived from the machine) because the k blocking
     * decides the rounding; see {@link #blockDepth(int)}.
     */
    public static final int KC = 256;
    /**
     * Rows of A a task keeps in L2 (MC x KC floats, a quarter of L2), swept under one KC x NR
     * panel of B that stays in L1. Does not affect results. A quarter measured faster than half on
     * 1 thread (1 MiB L2, 1024^3 and 2048^3: 99-103 against 93-97 GFLOPS, alternated; 2 threads
     * within the noise), leaving room in L2 for the B panels and C rows streaming past.
     */
    public static final int MC = Math.max(MR, (Integer.getInteger("latent4j.gemm.mc",
            CacheInfo.l2Bytes() / 4 / (KC * Float.BYTES)) / MR) * MR);

    private final Parallelism parallelism;
    private float[] packedA = new float[0];
    private float[] packedB = new float[0];
    private float[][] tiles = new float[0][];

    public Gemm(Parallelism parallelism) {
        if (parallelism == null) {
            throw new IllegalArgumentException("parallelism must not be null (use Parallelism.serial())");
        }
        this.parallelism = parallelism;
    }

    public Parallelism parallelism() {
        return parallelism;
    }

    /** The shape of one product a {@link Gemm} ran: op(A) is m x k, op(B) k x n; packed when B was packed beforehand. */
    public record Call(boolean transA, boolean transB, int m, int n, int k, boolean packed) {
        /** 2 m n k. */
        public double flops() {
            return 2.0 * m * n * k;
        }
    }

    private java.util.List<Call> recorder;

    /**
     * From now on appends the shape of every product to {@code calls} (null stops): for profiling
     * which products a plan runs (the per-step time split of {@code bench step}). Costs one null
     * check per call when off.
     */
    public void record(java.util.List<Call> calls) {
        this.recorder = calls;
    }

    /**
     * Runs small products on the calling thread (about 0.2 GFLOP, a few hundred milliseconds on a
     * cold JVM) so that the JIT compiles the micro-kernel and the packing loops. Until then a
     * Vector API kernel runs 10-50 x slower: the first large product of a cold JVM lost about
     * 0.5 s. Worth calling on a background thread while the data loads (the command line does);
     * results never depend on it.
     */
    public static void warmUp() {
        Gemm g = new Gemm(Parallelism.serial());
        int m = 64, n = 4 * NR, k = 256;
        float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
        for (int i = 0; i < 100; i++) {
            g.gemm(c, 0, n, (i & 1) == 1, (i & 2) == 2, m, n, k, 1f, a, 0, (i & 1) == 1 ? m : k, b, 0, (i & 2) == 2 ? k : n, i % 3);
            g.gemm(c, 0, n, false, false, m - 3, n - 5, k - 7, 1f, a, 0, k, b, 0, n, 0f);   // edge tiles
        }
    }

    /**
     * {@code C = alpha * op(A) * op(B) + beta * C}.
     *
     * @param c      output, m x n, row-major with leading dimension ldc; not read when beta == 0
     * @param transA false: A is stored m x k (lda >= k); true: A is stored k x m (lda >= m)
     * @param transB false: B is stored k x n (ldb >= n); true: B is stored n x k (ldb >= k)
     */
    public void gemm(float[] c, int cOff, int ldc,
                     boolean transA, boolean transB, int m, int n, int k,
                     float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta) {
        checkArgs(c, cOff, ldc, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb);
        long needB = (long) ceilDiv(n, NR) * NR * k;
        if (needB > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("gemm: operand B too large to pack (" + k + "x" + n + ")");
        }
        if (packedB.length < needB) {
            packedB = new float[(int) needB];
        }
        bPanelsOff = 0;
        if (recorder != null) {
            recorder.add(new Call(transA, transB, m, n, k, false));
        }
        run(c, cOff, ldc, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, packedB, true);
    }

    /**
     * Packs op(B) (k x n) once, for many products with the same B (a model's weights at
     * inference): pass the result to {@link #gemmPacked}. Results are bitwise those of {@link #gemm}.
     */
    public static float[] packB(boolean transB, int k, int n, float[] b, int bOff, int ldb) {
        if (k <= 0 || n <= 0) {
            throw new IllegalArgumentException("gemm: dimensions must be positive, got k=" + k + ", n=" + n);
        }
        checkMatrix("B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        long need = (long) ceilDiv(n, NR) * NR * k;
        if (need > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("gemm: operand B too large to pack (" + k + "x" + n + ")");
        }
        float[] out = new float[(int) need];
        for (int p = 0; p < ceilDiv(n, NR); p++) {
            packB(out, 0, p, transB, n, k, b, bOff, ldb);
        }
        return out;
    }

    /** Floats of op(B) (k x n) packed: {@link #packB(float[], int, boolean, int, int, float[], int, int)} writes that many. */
    public static int packedBSize(int k, int n) {
        long need = (long) ceilDiv(n, NR) * NR * k;
        if (k <= 0 || n <= 0 || need > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("gemm: cannot pack a " + k + "x" + n + " operand B");
        }
        return (int) need;
    }

    /**
     * Packs op(B) (k x n) into {@code dst} at {@code dstOff} ({@link #packedBSize} floats,
     * overwritten), for {@link #gemmPacked(float[], int, int, boolean, int, int, int, float, float[], int, int, float[], int, float)}:
     * the same panels as {@link #packB(boolean, int, int, float[], int, int)}, into a caller's buffer.
     */
    public static void packB(float[] dst, int dstOff, boolean transB, int k, int n, float[] b, int bOff, int ldb) {
        int need = packedBSize(k, n);
        checkMatrix("B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        if (dst == null || dstOff < 0 || dstOff > dst.length - need) {
            throw new IllegalArgumentException("gemm: packed B needs " + need + " floats at offset " + dstOff + " but the buffer has "
                    + (dst == null ? 0 : dst.length));
        }
        for (int p = 0; p < ceilDiv(n, NR); p++) {
            packB(dst, dstOff, p, transB, n, k, b, bOff, ldb);
        }
    }

    /**
     * {@code C = alpha * op(A) * B + beta * C} with B packed by
     * {@link #packB(float[], int, boolean, int, int, float[], int, int)} for this k and n at
     * {@code packedOff} of {@code packed} (read only, so threads may share it). Bitwise {@link #gemm}'s result.
     */
    public void gemmPacked(float[] c, int cOff, int ldc, boolean transA, int m, int n, int k,
                           float alpha, float[] a, int aOff, int lda, float[] packed, int packedOff, float beta) {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("gemm: dimensions must be positive, got m=" + m + ", n=" + n + ", k=" + k);
        }
        checkMatrix("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        checkMatrix("C", c, cOff, ldc, m, n);
        int need = packedBSize(k, n);
        if (packed == null || packedOff < 0 || packedOff > packed.length - need) {
            throw new IllegalArgumentException("gemm: packed B needs " + need + " floats at offset " + packedOff + ", the buffer has "
                    + (packed == null ? 0 : packed.length));
        }
        bPanelsOff = packedOff;
        if (recorder != null) {
            recorder.add(new Call(transA, false, m, n, k, true));
        }
        run(c, cOff, ldc, transA, false, m, n, k, alpha, a, aOff, lda, null, 0, 0, beta, packed, false);
    }

    /** {@code C = alpha * op(A) * B + beta * C} with B packed by {@link #packB} for this k and n. */
    public void gemmPacked(float[] c, int cOff, int ldc, boolean transA, int m, int n, int k,
                           float alpha, float[] a, int aOff, int lda, float[] packed, float beta) {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("gemm: dimensions must be positive, got m=" + m + ", n=" + n + ", k=" + k);
        }
        checkMatrix("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        checkMatrix("C", c, cOff, ldc, m, n);
        if (packed == null || packed.length != (long) ceilDiv(n, NR) * NR * k) {
            throw new IllegalArgumentException("gemm: packed B has " + (packed == null ? 0 : packed.length)
                    + " floats, not the packing of a " + k + "x" + n + " matrix");
        }
        bPanelsOff = 0;
        if (recorder != null) {
            recorder.add(new Call(transA, false, m, n, k, true));
        }
        run(c, cOff, ldc, transA, false, m, n, k, alpha, a, aOff, lda, null, 0, 0, beta, packed, false);
    }

    private void run(float[] c, int cOff, int ldc, boolean transA, boolean transB, int m, int n, int k,
                     float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta,
                     float[] bPanels, boolean packBNow) {
        final int mPanels = ceilDiv(m, MR);
        final int nPanels = ceilDiv(n, NR);
        long needA = (long) mPanels * MR * k;
        if (needA > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("gemm: operand A too large to pack (" + m + "x" + k + ")");
        }
        if (packedA.length < needA) {
            packedA = new float[(int) needA];
        }
        this.bPanels = bPanels;
        this.packBNow = packBNow;
        // The call's operands go into fields read by two bodies made once in the constructor, so
        // that a call allocates nothing (no capturing lambda per call).
        this.c = c;
        this.cOff = cOff;
        this.ldc = ldc;
        this.transA = transA;
        this.transB = transB;
        this.m = m;
        this.n = n;
        this.k = k;
        this.alpha = alpha;
        this.a = a;
        this.aOff = aOff;
        this.lda = lda;
        this.b = b;
        this.bOff = bOff;
        this.ldb = ldb;
        this.beta = beta;
        this.mPanels = mPanels;
        this.nPanels = nPanels;
        int threads = parallelism.threads();
        lastSharing = threads == 1 ? Sharing.SERIAL : Sharing.TWO_PHASE;
        if (threads > 1 && chooseSplit(threads)) {
            lastSharing = splitByColumns ? Sharing.BY_COLUMNS : Sharing.BY_ROWS;
            try {
                parallelism.forEach(splitTasks, ownBody);
            } finally {
                forgetOperands();
            }
            return;
        }
        try {
            // Pack: panels of A and of B are independent; deal them out to the threads.
            packTasks = Math.min(threads, mPanels + (packBNow ? nPanels : 0));
            parallelism.forEach(packTasks, packBody);

            // Compute: a grid of tasks, each owning (a group of A panels) x (a group of B panels) of C.
            int mPer = Math.min(mPanels, MC / MR);
            int nPer = nPanels;
            if (threads > 1 && ceilDiv(mPanels, mPer) >= threads) {
                // Groups of rows, as many as a multiple of the threads and of equal size
                // (784 rows in L2-sized groups of 256 were 256, 256, 256, 16: one thread had
                // twice the other's work).
                int groups = roundUp(ceilDiv(mPanels, mPer), threads);
                mPer = ceilDiv(mPanels, groups);
            } else if (threads > 1) {
                int want = threads * TASKS_PER_THREAD;
                int mg = ceilDiv(mPanels, mPer);
                if (mg < want) {
                    int ng = Math.min(nPanels, ceilDiv(want, mg));
                    nPer = ceilDiv(nPanels, ng);
                    if (mg * ceilDiv(nPanels, nPer) < want) {
                        mPer = Math.max(1, ceilDiv(mPanels, ceilDiv(want, ceilDiv(nPanels, nPer))));
                    }
                }
            }
            mPerGroup = mPer;
            nPerGroup = nPer;
            nGroups = ceilDiv(nPanels, nPerGroup);
            int tasks = ceilDiv(mPanels, mPerGroup) * nGroups;
            ensureTiles(tasks);
            parallelism.forEach(tasks, computeBody);
        } finally {
            forgetOperands();
        }
    }

    /** One edge tile per task, kept from call to call (grows only when a call has more tasks than any before). */
    private void ensureTiles(int tasks) {
        if (tiles.length < tasks) {
            float[][] t = new float[tasks][];
            for (int i = 0; i < tasks; i++) {
                t[i] = i < tiles.length ? tiles[i] : new float[MR * NR];
            }
            tiles = t;
        }
    }

    /** Drops the call's arrays, so that an idle instance keeps no caller's data alive. */
    private void forgetOperands() {
        this.c = null;
        this.a = null;
        this.b = null;
        this.bPanels = null;
    }

    // The current call (valid only inside gemm()).
    private float[] c;
    private float[] a;
    private float[] b;
    private float[] bPanels;
    private int bPanelsOff;
    private boolean packBNow;
    private int cOff;
    private int ldc;
    private int aOff;
    private int lda;
    private int bOff;
    private int ldb;
    private boolean transA;
    private boolean transB;
    private int m;
    private int n;
    private int k;
    private float alpha;
    private float beta;
    private int mPanels;
    private int nPanels;
    private int packTasks;
    private int mPerGroup;
    private int nPerGroup;
    private int nGroups;
    private final java.util.function.IntConsumer packBody = this::packShare;
    private final java.util.function.IntConsumer computeBody = this::computeShare;

    private void packShare(int t) {
        int total = mPanels + (packBNow ? nPanels : 0);
        for (int p = t; p < total; p += packTasks) {
            if (p < mPanels) {
                packA(packedA, 0, p, transA, m, k, a, aOff, lda);
            } else {
                packB(packedB, 0, p - mPanels, transB, n, k, b, bOff, ldb);
            }
        }
    }

    // ------------------------------------------------ one parallel region per product

    /** How the last product was shared between the threads (tests check that each way is covered). */
    enum Sharing { SERIAL, TWO_PHASE, BY_COLUMNS, BY_ROWS }

    private Sharing lastSharing = Sharing.SERIAL;

    Sharing lastSharing() {
        return lastSharing;
    }

    /**
     * Compute tasks per thread when a product is cut by columns: more than one, so that a thread done
     * early takes the tasks another has not started ({@link Parallelism}). Measured, 128x784x512 at
     * 2 threads in fresh JVMs: with one task per thread 840-865 us in 3 of 8 measurements (530-540 in
     * the others; 1 thread 1005), with four 529-538 us in 20 of 20. The cause of the slow runs was
     * not pinned down (a vCPU slowed by another guest, or placement-dependent cache conflicts).
     */
    static final int TASKS_PER_THREAD = Integer.getInteger("latent4j.gemm.tasksPerThread", 4);

    /** Products up to this many flops (2 m n k) run as one parallel region with packing per task. */
    static final double SMALL_PRODUCT_FLOPS = 16e6;

    private int splitTasks;
    private boolean splitByColumns;
    private float[][] ownA = new float[0][];
    private float[][] ownB = new float[0][];
    private final java.util.function.IntConsumer ownBody = this::ownShare;

    /**
     * Chooses how {@code threads} tasks share the product when each packs its own operands: by
     * columns (each task packs all of A and its own B panels) or by rows (its own A panels and,
     * unless B was packed beforehand, all of B). Each task then packs and computes with no barrier
     * between the two and reads only panels it wrote itself, so nothing crosses to the other core's
     * cache. The split duplicates the packing of one operand; the one chosen costs less by a model of
     * copy and multiply-add rates (a packed float costs about as much time as 16 flops). False when
     * neither dimension has a panel per task, or the duplicated operand would not fit in half of L2
     * (the caller then runs the two-phase path).
     * Results do not depend on the choice: every element is still summed in one lane, in k order.
     */
    private boolean chooseSplit(int threads) {
        // Only small products: there the barrier between packing and computing and the other core's
        // panels cost as much as the work (2 threads: 128x256x64 35 -> 26 us, 128x32x256 24 -> 18-22 us,
        // 256x128x64 transposed 39 -> 27-32 us); on the W1 layers' larger products the shared packing
        // measured as fast or faster (bench gemm, 128x784x512: 178-186 shared, 170 each its own).
        if (2.0 * m * n * k > SMALL_PRODUCT_FLOPS) {
            return false;
        }
        boolean byCols = nPanels >= threads, byRows = mPanels >= threads;
        if (!byCols && !byRows) {
            return false;
        }
        final double copy = 16;
        double colsPer = ceilDiv(nPanels, threads), rowsPer = ceilDiv(mPanels, threads);
        double costCols = copy * ((double) m * k + (packBNow ? (double) k * NR * colsPer : 0))
                + 2.0 * k * mPanels * MR * colsPer * NR;
        double costRows = copy * ((double) k * MR * rowsPer + (packBNow ? (double) k * n : 0))
                + 2.0 * k * rowsPer * MR * nPanels * NR;
        splitByColumns = byCols && (!byRows || costCols <= costRows);
        // The duplicated operand must fit in half of a core's L2, where each task's copy then stays
        // for its compute; a larger one streams from memory either way, and packing it once between
        // the threads measured faster (1024^3: 10.5 ms shared, 11.2 ms duplicated, 2 threads).
        double duplicated = splitByColumns ? (double) m * k : packBNow ? (double) k * n : 0;
        if (duplicated * Float.BYTES > CacheInfo.l2Bytes() / 2.0) {
            return false;
        }
        splitTasks = threads;
        if (ownA.length < threads) {
            ownA = java.util.Arrays.copyOf(ownA, threads);
            ownB = java.util.Arrays.copyOf(ownB, threads);
            for (int i = 0; i < threads; i++) {
                if (ownA[i] == null) {
                    ownA[i] = new float[0];
                    ownB[i] = new float[0];
                }
            }
        }
        ensureTiles(threads);
        return true;
    }

    /** Task t of {@link #chooseSplit}: packs its panels into its own buffers, then computes its part of C. */
    private void ownShare(int t) {
        int r0 = 0, r1 = mPanels, c0 = 0, c1 = nPanels;
        if (splitByColumns) {
            c0 = (int) ((long) nPanels * t / splitTasks);
            c1 = (int) ((long) nPanels * (t + 1) / splitTasks);
        } else {
            r0 = (int) ((long) mPanels * t / splitTasks);
            r1 = (int) ((long) mPanels * (t + 1) / splitTasks);
        }
        if (r0 == r1 || c0 == c1) {
            return;
        }
        int needA = (r1 - r0) * MR * k;
        if (ownA[t].length < needA) {
            ownA[t] = new float[needA];
        }
        float[] pa = ownA[t];
        for (int p = r0; p < r1; p++) {
            packA(pa, -r0 * k * MR, p, transA, m, k, a, aOff, lda);
        }
        float[] pb;
        int pbOff;
        if (packBNow) {
            int needB = (c1 - c0) * NR * k;
            if (ownB[t].length < needB) {
                ownB[t] = new float[needB];
            }
            pb = ownB[t];
            pbOff = -c0 * k * NR;
            for (int p = c0; p < c1; p++) {
                packB(pb, pbOff, p, transB, n, k, b, bOff, ldb);
            }
        } else {
            pb = bPanels;
            pbOff = bPanelsOff;
        }
        int mPer = Math.max(1, MC / MR);
        for (int ip = r0; ip < r1; ip += mPer) {
            computeBlock(c, cOff, ldc, m, n, k, alpha, beta, pa, -r0 * k * MR, pb, pbOff, tiles[t],
                    ip, Math.min(r1, ip + mPer), c0, c1);
        }
    }

    private void computeShare(int t) {
        int ig = t / nGroups;
        int jg = t % nGroups;
        int ip0 = ig * mPerGroup;
        int jp0 = jg * nPerGroup;
        computeBlock(c, cOff, ldc, m, n, k, alpha, beta, packedA, 0, bPanels, bPanelsOff, tiles[t],
                ip0, Math.min(mPanels, ip0 + mPerGroup), jp0, Math.min(nPanels, jp0 + nPerGroup));
    }

    private static void computeBlock(float[] c, int cOff, int ldc, int m, int n, int k, float alpha, float beta,
                                     float[] ap, int apOff, float[] bp, int bpOff, float[] tile, int ip0, int ip1, int jp0, int jp1) {
        int kcb = blockDepth(k);
        if (beta == 0f) {
            // C is not read when beta == 0 (it may hold anything, NaN included): zero this task's
            // part of it, so that the kernels have one store path (C = beta * C + alpha * AB) for
            // every k block. A branch on beta in the kernel made C2 compile it for the first
            // block's case and throw the compiled code away at the second (~0.3 s on a cold JVM).
            for (int i = ip0 * MR, iEnd = Math.min(m, ip1 * MR); i < iEnd; i++) {
                java.util.Arrays.fill(c, cOff + i * ldc + jp0 * NR, cOff + i * ldc + Math.min(n, jp1 * NR), 0f);
            }
        }
        for (int pc = 0; pc < k; pc += kcb) {
            int kc = Math.min(kcb, k - pc);
            float betaBlock = pc == 0 ? beta : 1f;
            for (int jp = jp0; jp < jp1; jp++) {
                int j0 = jp * NR;
                int nValid = Math.min(NR, n - j0);
                int bIdx = bpOff + (jp * k + pc) * NR;
                for (int ip = ip0; ip < ip1; ip++) {
                    int i0 = ip * MR;
                    int mValid = Math.min(MR, m - i0);
                    int aIdx = apOff + (ip * k + pc) * MR;
                    int cIdx = cOff + i0 * ldc + j0;
                    boolean full = mValid == MR && nValid == NR;
                    if (MR == 4) {
                        kernel4(kc, ap, aIdx, bp, bIdx, c, cIdx, ldc, full, tile, alpha, betaBlock);
                    } else {
                        kernel8(kc, ap, aIdx, bp, bIdx, c, cIdx, ldc, full, tile, alpha, betaBlock);
                    }
                    if (!full) {
                        mergeTile(c, cIdx, ldc, tile, mValid, nValid, alpha, betaBlock);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- packing

    /** packed[(panel*k + kk)*MR + r] = op(A)[panel*MR + r][kk], zero past row m. */
    private static void packA(float[] dst, int dstOff, int panel, boolean transA, int m, int k, float[] a, int aOff, int lda) {
        int i0 = panel * MR;
        int rows = Math.min(MR, m - i0);
        int base = dstOff + panel * k * MR;
        if (transA) {
            // A stored k x m: row kk of storage holds op(A)[.][kk]; copy MR consecutive floats.
            for (int kk = 0; kk < k; kk++) {
                int src = aOff + kk * lda + i0;
                int d = base + kk * MR;
                for (int r = 0; r < rows; r++) {
                    dst[d + r] = a[src + r];
                }
                for (int r = rows; r < MR; r++) {
                    dst[d + r] = 0f;
                }
            }
        } else {
            for (int r = 0; r < rows; r++) {
                int src = aOff + (i0 + r) * lda;
                int d = base + r;
                for (int kk = 0; kk < k; kk++) {
                    dst[d + kk * MR] = a[src + kk];
                }
            }
            for (int r = rows; r < MR; r++) {
                for (int kk = 0; kk < k; kk++) {
                    dst[base + r + kk * MR] = 0f;
                }
            }
        }
    }

    /** packed[(panel*k + kk)*NR + j] = op(B)[kk][panel*NR + j], zero past column n. */
    private static void packB(float[] dst, int dstOff, int panel, boolean transB, int n, int k, float[] b, int bOff, int ldb) {
        int j0 = panel * NR;
        int cols = Math.min(NR, n - j0);
        int base = dstOff + panel * k * NR;
        if (!transB) {
            // Two vectors per k row: a full panel is two plain loads and stores, the last one masked.
            if (cols == NR) {
                for (int kk = 0; kk < k; kk++) {
                    int src = bOff + kk * ldb + j0, d = base + kk * NR;
                    FloatVector.fromArray(S, b, src).intoArray(dst, d);
                    FloatVector.fromArray(S, b, src + L).intoArray(dst, d + L);
                }
            } else {
                VectorMask<Float> m0 = S.indexInRange(0, cols), m1 = S.indexInRange(L, cols);
                for (int kk = 0; kk < k; kk++) {
                    int src = bOff + kk * ldb + j0, d = base + kk * NR;
                    FloatVector.fromArray(S, b, src, m0).intoArray(dst, d);       // zero past column n
                    FloatVector.fromArray(S, b, src + L, m1).intoArray(dst, d + L);
                }
            }
        } else {
            // B stored n x k: column j of op(B) is row j of storage. Walk k in steps of 8 so that
            // each of the NR source rows is read 8 floats at a time and the panel is written in order.
            int kk = 0;
            for (; kk + 8 <= k; kk += 8) {
                for (int j = 0; j < cols; j++) {
                    int src = bOff + (j0 + j) * ldb + kk;
                    int d = base + kk * NR + j;
                    dst[d] = b[src];
                    dst[d + NR] = b[src + 1];
                    dst[d + 2 * NR] = b[src + 2];
                    dst[d + 3 * NR] = b[src + 3];
                    dst[d + 4 * NR] = b[src + 4];
                    dst[d + 5 * NR] = b[src + 5];
                    dst[d + 6 * NR] = b[src + 6];
                    dst[d + 7 * NR] = b[src + 7];
                }
            }
            for (; kk < k; kk++) {
                for (int j = 0; j < cols; j++) {
                    dst[base + kk * NR + j] = b[bOff + (j0 + j) * ldb + kk];
                }
            }
            for (int j = cols; j < NR; j++) {
                for (int q = 0; q < k; q++) {
                    dst[base + j + q * NR] = 0f;
                }
            }
        }
    }

    // ---------------------------------------------------------------- micro-kernels

    // 4 x 2L register tile: 8 accumulators + 2 B vectors + 1 broadcast.
    static void kernel4(int kc, float[] ap, int ao, float[] bp, int bo,
                         float[] c, int ci, int ldc, boolean full, float[] tile, float alpha, float beta) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * (2 * L);
            int ai = ao + p * 4;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[ai]); c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ap[ai + 1]); c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ap[ai + 2]); c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ap[ai + 3]); c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
        }
        if (!full) {
            c00.intoArray(tile, 0 * 2 * L); c01.intoArray(tile, 0 * 2 * L + L);
            c10.intoArray(tile, 1 * 2 * L); c11.intoArray(tile, 1 * 2 * L + L);
            c20.intoArray(tile, 2 * 2 * L); c21.intoArray(tile, 2 * 2 * L + L);
            c30.intoArray(tile, 3 * 2 * L); c31.intoArray(tile, 3 * 2 * L + L);
            return;
        }
        FloatVector va = FloatVector.broadcast(S, alpha);
        FloatVector vb = FloatVector.broadcast(S, beta);
        FloatVector.fromArray(S, c, ci).fma(vb, c00.mul(va)).intoArray(c, ci);
        FloatVector.fromArray(S, c, ci + L).fma(vb, c01.mul(va)).intoArray(c, ci + L);
        FloatVector.fromArray(S, c, ci + ldc).fma(vb, c10.mul(va)).intoArray(c, ci + ldc);
        FloatVector.fromArray(S, c, ci + ldc + L).fma(vb, c11.mul(va)).intoArray(c, ci + ldc + L);
        FloatVector.fromArray(S, c, ci + 2 * ldc).fma(vb, c20.mul(va)).intoArray(c, ci + 2 * ldc);
        FloatVector.fromArray(S, c, ci + 2 * ldc + L).fma(vb, c21.mul(va)).intoArray(c, ci + 2 * ldc + L);
        FloatVector.fromArray(S, c, ci + 3 * ldc).fma(vb, c30.mul(va)).intoArray(c, ci + 3 * ldc);
        FloatVector.fromArray(S, c, ci + 3 * ldc + L).fma(vb, c31.mul(va)).intoArray(c, ci + 3 * ldc + L);
    }

    // 8 x 2L register tile: 16 accumulators + 2 B vectors + 1 broadcast.
    static void kernel8(int kc, float[] ap, int ao, float[] bp, int bo,
                         float[] c, int ci, int ldc, boolean full, float[] tile, float alpha, float beta) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * (2 * L);
            int ai = ao + p * 8;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[ai]); c00 = a.fma(b0, c00); c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ap[ai + 1]); c10 = a.fma(b0, c10); c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ap[ai + 2]); c20 = a.fma(b0, c20); c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ap[ai + 3]); c30 = a.fma(b0, c30); c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, ap[ai + 4]); c40 = a.fma(b0, c40); c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, ap[ai + 5]); c50 = a.fma(b0, c50); c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(S, ap[ai + 6]); c60 = a.fma(b0, c60); c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, ap[ai + 7]); c70 = a.fma(b0, c70); c71 = a.fma(b1, c71);
        }
        if (!full) {
            c00.intoArray(tile, 0 * 2 * L); c01.intoArray(tile, 0 * 2 * L + L);
            c10.intoArray(tile, 1 * 2 * L); c11.intoArray(tile, 1 * 2 * L + L);
            c20.intoArray(tile, 2 * 2 * L); c21.intoArray(tile, 2 * 2 * L + L);
            c30.intoArray(tile, 3 * 2 * L); c31.intoArray(tile, 3 * 2 * L + L);
            c40.intoArray(tile, 4 * 2 * L); c41.intoArray(tile, 4 * 2 * L + L);
            c50.intoArray(tile, 5 * 2 * L); c51.intoArray(tile, 5 * 2 * L + L);
            c60.intoArray(tile, 6 * 2 * L); c61.intoArray(tile, 6 * 2 * L + L);
            c70.intoArray(tile, 7 * 2 * L); c71.intoArray(tile, 7 * 2 * L + L);
            return;
        }
        FloatVector va = FloatVector.broadcast(S, alpha);
        FloatVector vb = FloatVector.broadcast(S, beta);
        FloatVector.fromArray(S, c, ci).fma(vb, c00.mul(va)).intoArray(c, ci);
        FloatVector.fromArray(S, c, ci + L).fma(vb, c01.mul(va)).intoArray(c, ci + L);
        FloatVector.fromArray(S, c, ci + ldc).fma(vb, c10.mul(va)).intoArray(c, ci + ldc);
        FloatVector.fromArray(S, c, ci + ldc + L).fma(vb, c11.mul(va)).intoArray(c, ci + ldc + L);
        FloatVector.fromArray(S, c, ci + 2 * ldc).fma(vb, c20.mul(va)).intoArray(c, ci + 2 * ldc);
        FloatVector.fromArray(S, c, ci + 2 * ldc + L).fma(vb, c21.mul(va)).intoArray(c, ci + 2 * ldc + L);
        FloatVector.fromArray(S, c, ci + 3 * ldc).fma(vb, c30.mul(va)).intoArray(c, ci + 3 * ldc);
        FloatVector.fromArray(S, c, ci + 3 * ldc + L).fma(vb, c31.mul(va)).intoArray(c, ci + 3 * ldc + L);
        FloatVector.fromArray(S, c, ci + 4 * ldc).fma(vb, c40.mul(va)).intoArray(c, ci + 4 * ldc);
        FloatVector.fromArray(S, c, ci + 4 * ldc + L).fma(vb, c41.mul(va)).intoArray(c, ci + 4 * ldc + L);
        FloatVector.fromArray(S, c, ci + 5 * ldc).fma(vb, c50.mul(va)).intoArray(c, ci + 5 * ldc);
        FloatVector.fromArray(S, c, ci + 5 * ldc + L).fma(vb, c51.mul(va)).intoArray(c, ci + 5 * ldc + L);
        FloatVector.fromArray(S, c, ci + 6 * ldc).fma(vb, c60.mul(va)).intoArray(c, ci + 6 * ldc);
        FloatVector.fromArray(S, c, ci + 6 * ldc + L).fma(vb, c61.mul(va)).intoArray(c, ci + 6 * ldc + L);
        FloatVector.fromArray(S, c, ci + 7 * ldc).fma(vb, c70.mul(va)).intoArray(c, ci + 7 * ldc);
        FloatVector.fromArray(S, c, ci + 7 * ldc + L).fma(vb, c71.mul(va)).intoArray(c, ci + 7 * ldc + L);
    }

    /** C tile (mValid x nValid at ci) = alpha * tile + beta * C (C already zeroed where beta == 0). */
    static void mergeTile(float[] c, int ci, int ldc, float[] tile, int mValid, int nValid, float alpha, float beta) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        FloatVector vb = FloatVector.broadcast(S, beta);
        for (int r = 0; r < mValid; r++) {
            int row = ci + r * ldc;
            for (int j = 0; j < nValid; j += L) {
                VectorMask<Float> m = S.indexInRange(j, nValid);
                FloatVector v = FloatVector.fromArray(S, tile, r * NR + j).mul(va);
                FloatVector.fromArray(S, c, row + j, m).fma(vb, v).intoArray(c, row + j, m);
            }
        }
    }

    // ---------------------------------------------------------------- checks and helpers

    static void checkArgs(float[] c, int cOff, int ldc, boolean transA, boolean transB, int m, int n, int k,
                          float[] a, int aOff, int lda, float[] b, int bOff, int ldb) {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("gemm: dimensions must be positive, got m=" + m + " (rows of C), n=" + n
                    + " (columns of C), k=" + k + " (inner dimension)");
        }
        checkMatrix("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        checkMatrix("B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        checkMatrix("C", c, cOff, ldc, m, n);
    }

    static void checkMatrix(String name, float[] x, int off, int ld, int rows, int cols) {
        if (x == null) {
            throw new IllegalArgumentException("gemm: " + name + " must not be null");
        }
        if (ld < cols) {
            throw new IllegalArgumentException("gemm: leading dimension of " + name + " is " + ld
                    + " but its stored rows have " + cols + " columns");
        }
        long last = (long) off + (long) (rows - 1) * ld + cols;
        if (off < 0 || last > x.length) {
            throw new IllegalArgumentException("gemm: " + name + " is stored as " + rows + "x" + cols + " (leading dimension " + ld
                    + ", offset " + off + ") and needs " + last + " floats, but its array has " + x.length);
        }
    }

    /**
     * The k-block depth for a given k: at most {@link #KC}, with the blocks as even as possible
     * (784 = 4 x 196 rather than 3 x 256 + 16). Depends on k only, never on the threads.
     */
    static int blockDepth(int k) {
        return ceilDiv(k, ceilDiv(k, KC));
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}
