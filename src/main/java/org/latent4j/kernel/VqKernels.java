package org.latent4j.kernel;

/**
 * Kernels of the discrete latents: vector quantization against a codebook (nearest code as a
 * GEMM plus norms, the codebook's gradient, its exponential moving averages) and finite scalar
 * quantization. Free functions on flat float arrays; each says what it writes.
 *
 * <p>Layout: a batch of encoder outputs z_e is channels first, sample b's value at channel c and
 * position p (p = row * width + column of the code grid, P positions; a flat code has P = 1) at
 * {@code z[(b * C + c) * P + p]}. The search works on position-major rows: row r = b * P + p
 * holds the C = D values of one position, {@code rows[r * D + c]}. A codebook is K x D, row k
 * the code e_k.
 */
public final class VqKernels {
    private VqKernels() {}

    /** rows[(b * P + p) * D + c] = z[(b * D + c) * P + p] for b < batch: channels-first values to position-major rows. */
    public static void toRows(float[] rows, float[] z, int batch, int dim, int positions) {
        if (positions == 1) {
            System.arraycopy(z, 0, rows, 0, batch * dim);
            return;
        }
        for (int b = 0; b < batch; b++) {
            int base = b * dim * positions;
            for (int c = 0; c < dim; c++) {
                int src = base + c * positions, dst = base + c;
                for (int p = 0; p < positions; p++) {
                    rows[dst + p * dim] = z[src + p];
                }
            }
        }
    }

    /** norms[k] = ||e_k||^2 (summed in double) for the K x D codebook at {@code codebook[off...]}. */
    public static void codeNorms(float[] norms, float[] codebook, int off, int codes, int dim) {
        for (int k = 0; k < codes; k++) {
            double s = 0;
            int o = off + k * dim;
            for (int c = 0; c < dim; c++) {
                s += (double) codebook[o + c] * codebook[o + c];
            }
            norms[k] = (float) s;
        }
    }

    /**
     * The nearest code of each of n rows by squared Euclidean distance: index[r] = argmin_k
     * ||e_k||^2 - 2 rows_r . e_k (||rows_r||^2 is the same for every k), the cross terms as one
     * GEMM (n x K, into {@code scores}, which it overwrites), ties to the smaller index. With
     * {@code norms} null, the scores are the dot products alone and the largest wins (cosine
     * similarity when rows and codes are unit vectors). Bitwise the same for any thread count of
     * the GEMM. Writes index[0..n) and scores[0..n K).
     */
    public static void nearest(int[] index, float[] scores, float[] rows, int n, float[] codebook, int off, float[] norms, int codes,
                               int dim, Gemm gemm) {
        boolean euclid = norms != null;
        gemm.gemm(scores, 0, codes, false, true, n, codes, dim, euclid ? -2f : 1f, rows, 0, dim, codebook, off, dim, 0f);
        for (int r = 0; r < n; r++) {
            int o = r * codes, best = 0;
            float bv = euclid ? scores[o] + norms[0] : scores[o];
            for (int k = 1; k < codes; k++) {
                float v = euclid ? scores[o + k] + norms[k] : scores[o + k];
                if (euclid ? v < bv : v > bv) {
                    bv = v;
                    best = k;
                }
            }
            index[r] = best;
        }
    }

    /** Unit rows: dst row r = src row r / max(||src row r||, 1e-12) for n rows of D values (dst may be src). */
    public static void normalizeRows(float[] dst, float[] src, int off, int n, int dim) {
        for (int r = 0; r < n; r++) {
            double s = 0;
            int o = off + r * dim;
            for (int c = 0; c < dim; c++) {
                s += (double) src[o + c] * src[o + c];
            }
            float inv = (float) (1 / Math.max(Math.sqrt(s), 1e-12));
            for (int c = 0; c < dim; c++) {
                dst[r * dim + c] = src[o + c] * inv;
            }
        }
    }

    /** y[(b * D + c) * P + p] = codebook[off + index[b * P + p] * D + c]: the chosen codes, channels first. */
    public static void gather(float[] y, int[] index, float[] codebook, int off, int batch, int dim, int positions) {
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < positions; p++) {
                int k = off + index[b * positions + p] * dim, o = b * dim * positions + p;
                for (int c = 0; c < dim; c++) {
                    y[o + c * positions] = codebook[k + c];
                }
            }
        }
    }

    /**
     * The codebook's gradient from the gradient dy of the gathered codes: dE[index(b, p)][c] +=
     * dy[(b * D + c) * P + p] (dE at {@code grads[off...]}; zeroed first unless {@code accumulate}).
     * Serial, in row order: the same bits for any thread count.
     */
    public static void scatterGradient(float[] grads, int off, boolean accumulate, float[] dy, int[] index, int batch, int codes, int dim,
                                       int positions) {
        if (!accumulate) {
            java.util.Arrays.fill(grads, off, off + codes * dim, 0f);
        }
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < positions; p++) {
                int k = off + index[b * positions + p] * dim, o = b * dim * positions + p;
                for (int c = 0; c < dim; c++) {
                    grads[k + c] += dy[o + c * positions];
                }
            }
        }
    }

    /**
     * Per-sample weight * sum_i (a_i - b_i)^2 over w values of each of the batch's rows into loss[0..batch).
     */
    public static void squaredDistance(float[] loss, float[] a, float[] b, float weight, int batch, int w) {
        for (int r = 0; r < batch; r++) {
            double s = 0;
            for (int i = r * w; i < (r + 1) * w; i++) {
                double d = a[i] - b[i];
                s += d * d;
            }
            loss[r] = (float) (weight * s);
        }
    }

    /** da (+)= scale * 2 (a - b), over count values ({@code accumulate}: add to da, else overwrite). */
    public static void squaredDistanceBackward(float[] da, boolean accumulate, float[] a, float[] b, float scale, int count) {
        float s2 = 2f * scale;
        for (int i = 0; i < count; i++) {
            float g = s2 * (a[i] - b[i]);
            da[i] = accumulate ? da[i] + g : g;
        }
    }

    /**
     * Counts and sums of the rows assigned to each code: counts[k] = #{r : index[r] = k}, sums[k * D
     * + c] = sum of rows[r * D + c] over those r, in double (both overwritten), in row order.
     */
    public static void assignmentSums(double[] counts, double[] sums, int[] index, float[] rows, int n, int codes, int dim) {
        java.util.Arrays.fill(counts, 0, codes, 0);
        java.util.Arrays.fill(sums, 0, codes * dim, 0);
        for (int r = 0; r < n; r++) {
            int k = index[r];
            counts[k] += 1;
            int o = k * dim, ro = r * dim;
            for (int c = 0; c < dim; c++) {
                sums[o + c] += rows[ro + c];
            }
        }
    }

    /**
     * One step of the codebook's exponential moving averages (van den Oord et al. 2017, appendix;
     * Sonnet's VectorQuantizerEMA): N_k = decay N_k + (1 - decay) n_k and m_k = decay m_k +
     * (1 - decay) s_k for the batch's counts n_k and sums s_k (the sums only when {@code avgOff} >= 0).
     * Writes the cluster sizes at {@code p[sizeOff...]} and the averages at {@code p[avgOff...]}.
     */
    public static void movingAverages(float[] p, int sizeOff, int avgOff, double[] counts, double[] sums, float decay, int codes, int dim) {
        double d = decay, e = 1 - d;
        for (int k = 0; k < codes; k++) {
            p[sizeOff + k] = (float) (d * p[sizeOff + k] + e * counts[k]);
        }
        if (avgOff >= 0) {
            for (int i = 0; i < codes * dim; i++) {
                p[avgOff + i] = (float) (d * p[avgOff + i] + e * sums[i]);
            }
        }
    }

    /**
     * The codes from the moving averages with Laplace smoothing of the cluster sizes: with
     * n = sum_k N_k, e_k = m_k / ((N_k + eps) / (n + K eps) n). A code whose N_k is exactly 0 (never
     * assigned since it was set) keeps its vector. Writes the codebook at {@code p[embOff...]}.
     */
    public static void normalizeCodes(float[] p, int embOff, int sizeOff, int avgOff, float epsilon, int codes, int dim) {
        double n = 0;
        for (int k = 0; k < codes; k++) {
            n += p[sizeOff + k];
        }
        if (!(n > 0)) {
            return;
        }
        for (int k = 0; k < codes; k++) {
            float size = p[sizeOff + k];
            if (size == 0f) {
                continue;
            }
            double smoothed = (size + (double) epsilon) / (n + codes * (double) epsilon) * n;
            for (int c = 0; c < dim; c++) {
                p[embOff + k * dim + c] = (float) (p[avgOff + k * dim + c] / smoothed);
            }
        }
    }

    // ------------------------------------------------------------------ finite scalar quantization

    /**
     * Finite scalar quantization (Mentzer et al. 2023) of channel c with L = levels[c] levels:
     * bounded = tanh(z + shift) h - offset (h = (L - 1)(1 + 1e-3) / 2, offset 0.5 for an even L else
     * 0, shift = atanh(offset / h)), y = round(bounded) / (L div 2). Channels first, D = levels.length
     * channels of P positions. Writes y; bounded values not kept (the backward rule recomputes).
     */
    public static void fsqForward(float[] y, float[] z, int[] levels, int batch, int positions) {
        int dim = levels.length;
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < dim; c++) {
                int lv = levels[c];
                double h = (lv - 1) * (1 + 1e-3) / 2, offset = lv % 2 == 0 ? 0.5 : 0, shift = atanh(offset / h);
                double half = lv / 2;
                int o = (b * dim + c) * positions;
                for (int p = o; p < o + positions; p++) {
                    double bounded = StrictMath.tanh(z[p] + shift) * h - offset;
                    y[p] = (float) (Math.rint(bounded) / half + 0.0); // + 0.0: no negative zero
                }
            }
        }
    }

    /**
     * The straight-through gradient of {@link #fsqForward}: rounding passes the gradient as is, so
     * dz (+)= dy tanh'(z + shift) h / (L div 2).
     */
    public static void fsqBackward(float[] dz, boolean accumulate, float[] dy, float[] z, int[] levels, int batch, int positions) {
        int dim = levels.length;
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < dim; c++) {
                int lv = levels[c];
                double h = (lv - 1) * (1 + 1e-3) / 2, offset = lv % 2 == 0 ? 0.5 : 0, shift = atanh(offset / h);
                double half = lv / 2;
                int o = (b * dim + c) * positions;
                for (int p = o; p < o + positions; p++) {
                    double t = StrictMath.tanh(z[p] + shift);
                    float g = (float) (dy[p] * (1 - t * t) * h / half);
                    dz[p] = accumulate ? dz[p] + g : g;
                }
            }
        }
    }

    /**
     * The code index of each position of FSQ outputs y: sum_c (y_c (L_c div 2) + L_c div 2) basis_c with
     * basis_0 = 1, basis_c = basis_{c-1} L_{c-1}; index[b * P + p].
     */
    public static void fsqIndices(int[] index, float[] y, int[] levels, int batch, int positions) {
        int dim = levels.length;
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < positions; p++) {
                int idx = 0, basis = 1;
                for (int c = 0; c < dim; c++) {
                    int half = levels[c] / 2;
                    int q = (int) Math.rint(y[(b * dim + c) * positions + p] * half) + half;
                    idx += q * basis;
                    basis *= levels[c];
                }
                index[b * positions + p] = idx;
            }
        }
    }

    /** The FSQ outputs of code indices (the inverse of {@link #fsqIndices}), channels first. */
    public static void fsqCodes(float[] y, int[] index, int[] levels, int batch, int positions) {
        int dim = levels.length;
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < positions; p++) {
                int idx = index[b * positions + p];
                for (int c = 0; c < dim; c++) {
                    int half = levels[c] / 2;
                    y[(b * dim + c) * positions + p] = (float) ((idx % levels[c] - half) / (double) half);
                    idx /= levels[c];
                }
            }
        }
    }

    private static double atanh(double x) {
        return 0.5 * StrictMath.log((1 + x) / (1 - x));
    }
}
