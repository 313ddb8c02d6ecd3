package org.latent4j.model;

import org.latent4j.graph.Graph;
import org.latent4j.graph.Node;
import org.latent4j.graph.Ops;
import org.latent4j.graph.Planner;
import org.latent4j.graph.Quantizers;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.VqKernels;
import org.latent4j.runtime.Executor;

/**
 * The code indices of a model with a discrete latent (VQ-VAE or FSQ): encode rows to one index per
 * position of the code grid (raster order), decode indices, the encoder's continuous output z_e
 * and its quantization. A code row of {@link Autoencoder#encode} is the quantized vectors,
 * channels first; this class works with the ints.
 */
public final class DiscreteCodes {
    private final Autoencoder model;
    private final Graph g;
    private final Node quantizer;
    private final int ze;
    private final int positions;
    private final int dim;
    private final int codes;

    private DiscreteCodes(Autoencoder model, Node q) {
        this.model = model;
        this.g = model.graph();
        this.quantizer = q;
        this.ze = q.op() instanceof Ops.VectorQuantize ? g.node(q.input(0)).input(0) : q.input(0);
        this.positions = q.shape().spatial() ? q.shape().height() * q.shape().width() : 1;
        this.dim = q.shape().spatial() ? q.shape().channels() : q.shape().size();
        this.codes = Quantizers.codes(q);
        int st = -1;
        for (Node n : g.nodes()) {
            if (n.op() instanceof Ops.StraightThrough || n == q && q.op() instanceof Ops.FiniteScalarQuantize) {
                st = n.id();
            }
        }
        this.quantized = st;
    }

    /** The node of the quantized values (the straight-through's, FSQ's); the model's code (g.code) is after a projection back when it differs. */
    private final int quantized;

    /** The model's code values for quantized values (lookup space): through quantizer.project_out when the lookup is lower-dimensional. */
    private float[] projectOut(float[] y, int n) {
        if (quantized == g.code) {
            return y;
        }
        Executor ex = new Executor(Planner.forward(g, g.code, g.code), Parallelism.serial(), Math.max(1, n));
        ex.load(quantized, y, 0, n);
        ex.run(model.parameters(), null, n, 0, 0, 1f);
        return java.util.Arrays.copyOf(ex.value(g.code), n * g.node(g.code).width());
    }

    /** True for a model with a discrete latent. */
    public static boolean has(LatentModel m) {
        return m instanceof Autoencoder a && Quantizers.quantizer(a.graph()) != null;
    }

    /** The codes of a model with a discrete latent; a one-line error for any other model. */
    public static DiscreteCodes of(LatentModel m) {
        if (!has(m)) {
            throw new IllegalArgumentException("this " + m.kind() + " has no discrete latent (a vectorQuantized or finiteScalar bottleneck)");
        }
        Autoencoder a = (Autoencoder) m;
        return new DiscreteCodes(a, Quantizers.quantizer(a.graph()));
    }

    /** Positions of the code grid (height x width; 1 for a flat code). */
    public int positions() {
        return positions;
    }

    /** Rows of the code grid (1 for a flat code). */
    public int gridHeight() {
        return quantizer.shape().spatial() ? quantizer.shape().height() : 1;
    }

    /** Columns of the code grid (1 for a flat code). */
    public int gridWidth() {
        return quantizer.shape().spatial() ? quantizer.shape().width() : 1;
    }

    /** Codes a position can take (the codebook's size, or FSQ's product of levels). */
    public int codes() {
        return codes;
    }

    /** Bits of one image's indices, positions x log2(codes). */
    public double bitsPerImage() {
        return positions * Math.log(codes) / Math.log(2);
    }

    /** Rows per forward pass of the encoder: the model's own batch-inference chunk ({@link Autoencoder#CHUNK}). */
    private static final int CHUNK = Autoencoder.CHUNK;

    /** The forward pass {@code ex} was planned for (the encoder, up to the quantizer) on rows [from, from + n) of x (n <= CHUNK). */
    private void run(Executor ex, float[] flat, float[][] x, int from, int n) {
        int d = model.inputDim();
        float[][] scaled = model.inputScaling().apply(java.util.Arrays.copyOfRange(x, from, from + n));
        for (int r = 0; r < n; r++) {
            if (scaled[r] == null || scaled[r].length != d) {
                throw new IllegalArgumentException("row " + (from + r) + " has " + (scaled[r] == null ? 0 : scaled[r].length)
                        + " values but the model takes " + d);
            }
            System.arraycopy(scaled[r], 0, flat, r * d, d);
        }
        ex.load(g.input, flat, 0, n);
        ex.run(model.parameters(), null, n, 0, 0, 1f);
    }

    private Executor executor(int to, int n) {
        return new Executor(Planner.forward(g, 0, to), Parallelism.serial(), Math.max(1, Math.min(n, CHUNK)));
    }

    /** One index per position of each row (raster order over the code grid); any number of rows (encoded {@value #CHUNK} at a time). */
    public int[][] encodeIndices(float[][] x) {
        int n = x.length;
        int[][] out = new int[n][positions];
        if (n == 0) {
            return out;
        }
        Executor ex = executor(quantizer.id(), n);
        float[] flat = new float[Math.min(n, CHUNK) * model.inputDim()];
        int[] fsq = quantizer.op() instanceof Ops.FiniteScalarQuantize ? new int[Math.min(n, CHUNK) * positions] : null;
        for (int from = 0; from < n; from += CHUNK) {
            int m = Math.min(CHUNK, n - from);
            run(ex, flat, x, from, m);
            int[] idx;
            if (quantizer.op() instanceof Ops.FiniteScalarQuantize f) {
                idx = fsq;
                VqKernels.fsqIndices(idx, ex.value(quantizer.id()), f.levels(), m, positions);
            } else {
                idx = ex.intBuffer(quantizer.id(), 1);
            }
            for (int r = 0; r < m; r++) {
                System.arraycopy(idx, r * positions, out[from + r], 0, positions);
            }
        }
        return out;
    }

    /** The quantized vectors (channels first, as the decoder reads them) of index rows. */
    public float[][] codeVectors(int[][] index) {
        int n = index.length;
        int[] flat = new int[n * positions];
        for (int r = 0; r < n; r++) {
            if (index[r] == null || index[r].length != positions) {
                throw new IllegalArgumentException("index row " + r + " has " + (index[r] == null ? 0 : index[r].length) + " indices but the code grid has "
                        + positions + " positions");
            }
            for (int p = 0; p < positions; p++) {
                int k = index[r][p];
                if (k < 0 || k >= codes) {
                    throw new IllegalArgumentException("index row " + r + ", position " + p + ": code " + k + " is not in 0.." + (codes - 1));
                }
                flat[r * positions + p] = k;
            }
        }
        float[] y = new float[n * positions * dim];
        if (quantizer.op() instanceof Ops.FiniteScalarQuantize f) {
            VqKernels.fsqCodes(y, flat, f.levels(), n, positions);
        } else {
            VqKernels.gather(y, flat, model.parameters(), g.param("quantizer.embedding.weight").offset(), n, dim, positions);
        }
        return split(projectOut(y, n), n);
    }

    private float[][] split(float[] y, int n) {
        int w = g.node(g.code).width();
        float[][] out = new float[n][w];
        for (int r = 0; r < n; r++) {
            System.arraycopy(y, r * w, out[r], 0, w);
        }
        return out;
    }

    /** Decoder means of index rows. */
    public float[][] decodeIndices(int[][] index) {
        return model.decode(codeVectors(index));
    }

    /** The encoder's continuous output z_e before quantization (channels first). */
    public float[][] encodeContinuous(float[][] x) {
        int n = x.length, w = positions * dim;
        float[][] out = new float[n][w];
        if (n == 0) {
            return out;
        }
        Executor ex = executor(ze, n);
        float[] flat = new float[Math.min(n, CHUNK) * model.inputDim()];
        for (int from = 0; from < n; from += CHUNK) {
            int m = Math.min(CHUNK, n - from);
            run(ex, flat, x, from, m);
            float[] v = ex.value(ze);
            for (int r = 0; r < m; r++) {
                System.arraycopy(v, r * w, out[from + r], 0, w);
            }
        }
        return out;
    }

    /** The quantized vectors of z_e rows: each position's nearest code (VQ) or its FSQ rounding. */
    public float[][] quantize(float[][] zeRows) {
        int n = zeRows.length, w = positions * dim;
        float[] z = new float[n * w];
        for (int r = 0; r < n; r++) {
            System.arraycopy(zeRows[r], 0, z, r * w, w);
        }
        float[] y = new float[n * w];
        if (quantizer.op() instanceof Ops.FiniteScalarQuantize f) {
            VqKernels.fsqForward(y, z, f.levels(), n, positions);
        } else {
            Ops.VectorQuantize v = (Ops.VectorQuantize) quantizer.op();
            float[] rows = new float[n * w], scores = new float[n * positions * codes];
            int[] idx = new int[n * positions];
            VqKernels.toRows(rows, z, n, dim, positions);
            int off = g.param("quantizer.embedding.weight").offset();
            Gemm gemm = new Gemm(Parallelism.serial());
            if (v.cosine()) {
                float[] unit = new float[codes * dim];
                VqKernels.normalizeRows(rows, rows, 0, n * positions, dim);
                VqKernels.normalizeRows(unit, model.parameters(), off, codes, dim);
                VqKernels.nearest(idx, scores, rows, n * positions, unit, 0, null, codes, dim, gemm);
            } else {
                float[] norms = new float[codes];
                VqKernels.codeNorms(norms, model.parameters(), off, codes, dim);
                VqKernels.nearest(idx, scores, rows, n * positions, model.parameters(), off, norms, codes, dim, gemm);
            }
            VqKernels.gather(y, idx, model.parameters(), off, n, dim, positions);
        }
        return split(projectOut(y, n), n);
    }

    /**
     * {@code steps} images from a to b: z_e interpolated linearly, each point quantized, then decoded
     * (the ends are the reconstructions of a and b).
     */
    public float[][] interpolate(float[] a, float[] b, int steps) {
        if (steps < 2) {
            throw new IllegalArgumentException("an interpolation needs at least 2 steps, got " + steps);
        }
        float[][] e = encodeContinuous(new float[][] {a, b});
        float[][] path = new float[steps][e[0].length];
        for (int s = 0; s < steps; s++) {
            float t = s / (float) (steps - 1);
            for (int i = 0; i < path[s].length; i++) {
                path[s][i] = (1 - t) * e[0][i] + t * e[1][i];
            }
        }
        return model.decode(quantize(path));
    }

    /** How often each code is used by the index rows. */
    public long[] usage(int[][] index) {
        long[] c = new long[codes];
        for (int[] row : index) {
            for (int k : row) {
                c[k]++;
            }
        }
        return c;
    }
}
