package org.latent4j.kernel;

/**
 * Kernels of an autoregressive prior over a grid of code indices (a PixelCNN, van den Oord et al.
 * 2016): the causal masks of a masked convolution's weight, an embedding of the indices, and the
 * per-position categorical cross-entropy of logits over channels. Free functions on flat arrays;
 * each says what it writes.
 *
 * <p>Layout as the convolutions': images channels first, sample b's channel c at position p (p =
 * row * width + column, P positions) at {@code [(b * C + c) * P + p]}; an index grid holds one
 * index per position as a float ({@code [b * P + p]}, exact below 2^24). A convolution weight is
 * (out, in, k, k) row-major.
 *
 * <p>The masks (one "colour": a position holds one index, so no channel groups): with centre
 * c = k / 2, tap (ky, kx) is kept when ky &lt; c, or ky == c and kx &lt; c (type A), or ky == c and
 * kx &lt;= c (type B). A type-A layer's output at position p sees only the input at positions
 * before p in raster order; a type-B layer's sees p itself too. A stack of one type-A layer and
 * any number of type-B layers (and 1x1 layers, and position-wise ops) is causal: its output at p
 * depends only on the inputs at positions strictly before p.
 */
public final class PixelCnnKernels {
    private PixelCnnKernels() {}

    /** True when tap (ky, kx) of a k x k kernel is kept by the mask of type A ({@code typeA}) or B. */
    public static boolean kept(boolean typeA, int k, int ky, int kx) {
        int c = k / 2;
        return ky < c || ky == c && (typeA ? kx < c : kx <= c);
    }

    /** dst[dOff + i] = w[wOff + i] on kept taps, 0 on masked ones, for an (out, in, k, k) weight. */
    public static void applyMask(float[] dst, int dOff, float[] w, int wOff, int out, int in, int k, boolean typeA) {
        int kk = k * k;
        for (int t = 0; t < kk; t++) {
            boolean keep = kept(typeA, k, t / k, t % k);
            for (int oi = 0; oi < out * in; oi++) {
                dst[dOff + oi * kk + t] = keep ? w[wOff + oi * kk + t] : 0f;
            }
        }
    }

    /** Zeroes the masked taps of an (out, in, k, k) weight (or its gradient) in place. */
    public static void mask(float[] w, int off, int out, int in, int k, boolean typeA) {
        applyMask(w, off, w, off, out, in, k, typeA);
    }

    /**
     * y[(b * D + c) * P + p] = w[wOff + idx * D + c] for idx = (int) index[b * P + p]: the (K, D)
     * embedding of each position's index, channels first. Indices must lie in 0..K-1 (checked by the caller).
     */
    public static void embedForward(float[] y, float[] index, float[] w, int wOff, int batch, int positions, int dim) {
        for (int b = 0; b < batch; b++) {
            int yo = b * dim * positions;
            for (int p = 0; p < positions; p++) {
                int e = wOff + (int) index[b * positions + p] * dim;
                for (int c = 0; c < dim; c++) {
                    y[yo + c * positions + p] = w[e + c];
                }
            }
        }
    }

    /** dw[dwOff + k * D + c] = the sum of dy over the positions holding index k (overwritten; the (K, D) gradient of {@link #embedForward}). */
    public static void embedBackward(float[] dw, int dwOff, float[] dy, float[] index, int batch, int positions, int dim, int codes) {
        java.util.Arrays.fill(dw, dwOff, dwOff + codes * dim, 0f);
        for (int b = 0; b < batch; b++) {
            int yo = b * dim * positions;
            for (int p = 0; p < positions; p++) {
                int e = dwOff + (int) index[b * positions + p] * dim;
                for (int c = 0; c < dim; c++) {
                    dw[e + c] += dy[yo + c * positions + p];
                }
            }
        }
    }

    /**
     * loss[b] = sum over positions p of -log softmax(logits[b, :, p])[t], t = (int) target[b * P + p]:
     * the per-sample cross-entropy of K logits per position (channels first) against the indices,
     * each log-sum-exp in double from the largest logit. With {@code probs} not null, also writes
     * the softmax probabilities there (same layout as the logits) for the backward rule.
     */
    public static void categoricalNll(float[] loss, float[] probs, float[] logits, float[] target, int batch, int codes, int positions) {
        for (int b = 0; b < batch; b++) {
            int o = b * codes * positions;
            double s = 0;
            for (int p = 0; p < positions; p++) {
                int t = (int) target[b * positions + p];
                float max = Float.NEGATIVE_INFINITY;
                for (int k = 0; k < codes; k++) {
                    max = Math.max(max, logits[o + k * positions + p]);
                }
                double z = 0;
                for (int k = 0; k < codes; k++) {
                    int i = o + k * positions + p;
                    double e = Math.exp((double) logits[i] - max);
                    z += e;
                    if (probs != null) {
                        probs[i] = (float) e;
                    }
                }
                if (probs != null) {
                    double inv = 1 / z;
                    for (int k = 0; k < codes; k++) {
                        int i = o + k * positions + p;
                        probs[i] = (float) (probs[i] * inv);
                    }
                }
                s += max + Math.log(z) - logits[o + t * positions + p];
            }
            loss[b] = (float) s;
        }
    }

    /** log sum_k exp(x[off + k * stride]) over k < K, in double from the largest. */
    public static double logSumExp(float[] x, int off, int stride, int codes) {
        float max = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < codes; k++) {
            max = Math.max(max, x[off + k * stride]);
        }
        double s = 0;
        for (int k = 0; k < codes; k++) {
            s += Math.exp((double) x[off + k * stride] - max);
        }
        return max + Math.log(s);
    }

    /**
     * d[i] (+)= scale * (probs[i] - [k == t]) over the batch's logits: the gradient of
     * {@link #categoricalNll} (softmax minus one-hot) times {@code scale} (the weight of one
     * sample's term), from the probabilities its forward wrote; added when {@code accumulate}.
     */
    public static void categoricalNllBackward(float[] d, boolean accumulate, float[] probs, float[] target, float scale, int batch,
                                              int codes, int positions) {
        for (int b = 0; b < batch; b++) {
            int o = b * codes * positions;
            for (int i = o; i < o + codes * positions; i++) {
                float g = scale * probs[i];
                d[i] = accumulate ? d[i] + g : g;
            }
            for (int p = 0; p < positions; p++) {
                d[o + (int) target[b * positions + p] * positions + p] -= scale;
            }
        }
    }
}
