package org.latent4j.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.Node;
import org.latent4j.graph.Ops;
import org.latent4j.graph.ParamSpec;
import org.latent4j.graph.Planner;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;
import org.latent4j.kernel.VqKernels;
import org.latent4j.train.Trainer;

/**
 * The vector-quantized latent against independent references: the nearest code against a
 * brute-force double loop, the straight-through and codebook / commitment gradients against
 * finite differences in double of the functions the stop-gradients define, one EMA step and a
 * revival against a hand computation, and FSQ against its formula.
 */
class VectorQuantizationTest {
    static final long SEED = 11, STREAM = 3;

    static float[] random(int n, long stream, float scale) {
        float[] a = new float[n];
        Philox.fillNormal(a, 0, n, 5, stream, 0);
        for (int i = 0; i < n; i++) {
            a[i] *= scale;
        }
        return a;
    }

    @Test
    void nearestCodeIsTheBruteForceNearestForEuclideanAndCosine() {
        int n = 300, k = 37, d = 9;
        float[] rows = random(n * d, 1, 1f), book = random(k * d, 2, 1f);
        float[] norms = new float[k], scores = new float[n * k];
        int[] index = new int[n];
        for (int threads : new int[] {1, 2}) {
            Gemm gemm = new Gemm(threads == 1 ? Parallelism.serial() : Parallelism.of(threads));
            VqKernels.codeNorms(norms, book, 0, k, d);
            VqKernels.nearest(index, scores, rows, n, book, 0, norms, k, d, gemm);
            for (int r = 0; r < n; r++) {
                int best = -1;
                double bd = Double.POSITIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    double s = 0;
                    for (int j = 0; j < d; j++) {
                        double diff = (double) rows[r * d + j] - book[c * d + j];
                        s += diff * diff;
                    }
                    if (s < bd) {
                        bd = s;
                        best = c;
                    }
                }
                double got = 0;
                for (int j = 0; j < d; j++) {
                    double diff = (double) rows[r * d + j] - book[index[r] * d + j];
                    got += diff * diff;
                }
                assertTrue(index[r] == best || got - bd < 1e-5 * (1 + bd), "row " + r + ": code " + index[r] + " at " + got + ", nearest " + best
                        + " at " + bd);
            }
            // cosine: the largest cosine similarity
            float[] ur = new float[n * d], ub = new float[k * d];
            VqKernels.normalizeRows(ur, rows, 0, n, d);
            VqKernels.normalizeRows(ub, book, 0, k, d);
            VqKernels.nearest(index, scores, ur, n, ub, 0, null, k, d, gemm);
            for (int r = 0; r < n; r++) {
                double bestCos = Double.NEGATIVE_INFINITY, gotCos = 0;
                for (int c = 0; c < k; c++) {
                    double dot = 0, a = 0, b = 0;
                    for (int j = 0; j < d; j++) {
                        dot += (double) rows[r * d + j] * book[c * d + j];
                        a += (double) rows[r * d + j] * rows[r * d + j];
                        b += (double) book[c * d + j] * book[c * d + j];
                    }
                    double cos = dot / Math.sqrt(a * b);
                    bestCos = Math.max(bestCos, cos);
                    if (c == index[r]) {
                        gotCos = cos;
                    }
                }
                assertTrue(bestCos - gotCos < 1e-5, "row " + r + ": cosine " + gotCos + ", best " + bestCos);
            }
        }
        // ties go to the smaller index
        float[] twin = new float[2 * d];
        System.arraycopy(book, 0, twin, 0, d);
        System.arraycopy(book, 0, twin, d, d);
        VqKernels.codeNorms(norms, twin, 0, 2, d);
        VqKernels.nearest(index, scores, rows, 1, twin, 0, norms, 2, d, new Gemm(Parallelism.serial()));
        assertEquals(0, index[0]);
    }

    // ------------------------------------------------------------------ gradients

    /** A flat VQ model: 6 inputs -> quantizer.project dense(3) -> 5 codes -> dense(6) -> Gaussian(1). */
    static ModelSpec flat(boolean ema) {
        var l = Model.encoder(6).vectorQuantized(5, 3).commitment(0.4f);
        return (ema ? l : l.codebookByGradient()).decoder().dense(6).gaussian();
    }

    record Twin(double objective, double codebookLoss, double commitment, int[] index) {}

    /**
     * The objective in double: z_e = W1 x + b1, e = the codebook row nearest z_e (or the frozen
     * {@code index}), z_q = e + (z_e - zeShift) for the straight-through surrogate (zeShift null:
     * z_q = e), out = W2 z_q + b2; mean over rows of 0.5 ||out - x||^2 + D/2 log 2 pi
     * + codebook weight ||z_e - e||^2 + beta ||z_e - e||^2.
     */
    static Twin twin(Graph g, double[] p, float[] x, int batch, int[] frozen, double[][] zeShift, boolean codebookTerm, boolean commitTerm,
                     boolean reconTerm) {
        ParamSpec w1 = g.param("quantizer.project.weight"), b1 = g.param("quantizer.project.bias"), e = g.param("quantizer.embedding.weight");
        ParamSpec w2 = g.param("decoder.0.weight"), b2 = g.param("decoder.0.bias");
        int d = 6, z = 3, k = 5;
        double total = 0, book = 0, commit = 0;
        int[] index = new int[batch];
        for (int r = 0; r < batch; r++) {
            double[] ze = new double[z];
            for (int i = 0; i < z; i++) {
                ze[i] = p[b1.offset() + i];
                for (int j = 0; j < d; j++) {
                    ze[i] += p[w1.offset() + i * d + j] * x[r * d + j];
                }
            }
            int best = 0;
            double bd = Double.POSITIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                double s = 0;
                for (int i = 0; i < z; i++) {
                    s += (ze[i] - p[e.offset() + c * z + i]) * (ze[i] - p[e.offset() + c * z + i]);
                }
                if (s < bd) {
                    bd = s;
                    best = c;
                }
            }
            index[r] = frozen != null ? frozen[r] : best;
            double[] zq = new double[z];
            double dist = 0;
            for (int i = 0; i < z; i++) {
                double ei = p[e.offset() + index[r] * z + i];
                zq[i] = ei + (zeShift == null ? 0 : ze[i] - zeShift[r][i]);
                dist += (ze[i] - ei) * (ze[i] - ei);
            }
            double recon = 0;
            for (int j = 0; j < d; j++) {
                double o = p[b2.offset() + j];
                for (int i = 0; i < z; i++) {
                    o += p[w2.offset() + j * z + i] * zq[i];
                }
                recon += 0.5 * (o - x[r * d + j]) * (o - x[r * d + j]) + 0.5 * Math.log(2 * Math.PI);
            }
            book += dist;
            commit += 0.4 * dist;
            total += (reconTerm ? recon : 0) + (codebookTerm ? dist : 0) + (commitTerm ? 0.4 * dist : 0);
        }
        return new Twin(total / batch, book / batch, commit / batch, index);
    }

    static double[][] zeOf(Graph g, double[] p, float[] x, int batch) {
        ParamSpec w1 = g.param("quantizer.project.weight"), b1 = g.param("quantizer.project.bias");
        double[][] out = new double[batch][3];
        for (int r = 0; r < batch; r++) {
            for (int i = 0; i < 3; i++) {
                out[r][i] = p[b1.offset() + i];
                for (int j = 0; j < 6; j++) {
                    out[r][i] += p[w1.offset() + i * 6 + j] * x[r * 6 + j];
                }
            }
        }
        return out;
    }

    @Test
    void straightThroughAndTheTwoLossesGiveTheGradientsTheirStopGradientsDefine() {
        ModelSpec spec = flat(false);
        Graph g = Graph.build(spec).fuse();
        int batch = 7;
        float[] params = Trainer.initialParams(g, SEED);
        float[] x = random(batch * 6, 9, 1f);
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        float[] grads = new float[params.length];
        ex.load(g.input, x, 0, batch);
        ex.run(params, grads, batch, SEED, STREAM, 1f);
        double[] p = new double[params.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = params[i];
        }
        Twin t0 = twin(g, p, x, batch, null, null, true, true, true);
        // the loss values the graph reports are the twin's
        int book = -1, commit = -1;
        for (int id : g.penalties) {
            if (g.node(id).op() instanceof Ops.QuantizationLoss q) {
                if (q.codebook()) {
                    book = id;
                } else {
                    commit = id;
                }
            }
        }
        double gb = 0, gc = 0;
        for (int r = 0; r < batch; r++) {
            gb += ex.value(book)[r];
            gc += ex.value(commit)[r];
        }
        assertEquals(t0.codebookLoss(), gb / batch, 1e-5);
        assertEquals(t0.commitment(), gc / batch, 1e-5);
        double[][] ze0 = zeOf(g, p, x, batch);
        double h = 1e-6;
        // encoder (quantizer.project): the straight-through surrogate with the codes frozen, plus the commitment; no codebook term
        for (String name : List.of("quantizer.project.weight", "quantizer.project.bias")) {
            ParamSpec ps = g.param(name);
            for (int i = ps.offset(); i < ps.offset() + ps.size(); i++) {
                double keep = p[i];
                p[i] = keep + h;
                double up = twin(g, p, x, batch, t0.index(), ze0, false, true, true).objective();
                p[i] = keep - h;
                double down = twin(g, p, x, batch, t0.index(), ze0, false, true, true).objective();
                p[i] = keep;
                double fd = (up - down) / (2 * h);
                assertEquals(fd, grads[i], 2e-4 * (1 + Math.abs(fd)), name + "[" + (i - ps.offset()) + "]");
            }
        }
        // codebook: only the codebook loss ||sg(z_e) - e||^2 (not the decoder's path, not the commitment)
        ParamSpec e = g.param("quantizer.embedding.weight");
        boolean decoderWouldDiffer = false;
        for (int i = e.offset(); i < e.offset() + e.size(); i++) {
            double keep = p[i];
            p[i] = keep + h;
            double up = twin(g, p, x, batch, t0.index(), null, true, false, false).objective();
            double upAll = twin(g, p, x, batch, t0.index(), null, true, true, true).objective();
            p[i] = keep - h;
            double down = twin(g, p, x, batch, t0.index(), null, true, false, false).objective();
            double downAll = twin(g, p, x, batch, t0.index(), null, true, true, true).objective();
            p[i] = keep;
            double fd = (up - down) / (2 * h), fdAll = (upAll - downAll) / (2 * h);
            assertEquals(fd, grads[i], 2e-4 * (1 + Math.abs(fd)), "codebook [" + (i - e.offset()) + "]");
            decoderWouldDiffer |= Math.abs(fdAll - fd) > 1e-2;
        }
        assertTrue(decoderWouldDiffer, "without the stop-gradients the codebook's gradient would differ (the check can fail)");
        // decoder: the ordinary gradient of the objective (the codes are its input)
        for (String name : List.of("decoder.0.weight", "decoder.0.bias")) {
            ParamSpec ps = g.param(name);
            for (int i = ps.offset(); i < ps.offset() + ps.size(); i++) {
                double keep = p[i];
                p[i] = keep + h;
                double up = twin(g, p, x, batch, null, null, true, true, true).objective();
                p[i] = keep - h;
                double down = twin(g, p, x, batch, null, null, true, true, true).objective();
                p[i] = keep;
                double fd = (up - down) / (2 * h);
                assertEquals(fd, grads[i], 2e-4 * (1 + Math.abs(fd)), name);
            }
        }
    }

    @Test
    void theDecoderGradientPassesStraightThroughToZe() {
        // With beta 0 the encoder's output gradient is exactly the quantized codes' gradient.
        ModelSpec spec = Model.encoder(6).vectorQuantized(5, 3).commitment(0f).decoder().dense(6).gaussian();
        Graph g = Graph.build(spec).fuse();
        int batch = 4;
        float[] params = Trainer.initialParams(g, SEED);
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        ex.load(g.input, random(batch * 6, 4, 1f), 0, batch);
        ex.run(params, new float[params.length], batch, SEED, STREAM, 1f);
        Node st = null;
        for (Node n : g.nodes()) {
            if (n.op() instanceof Ops.StraightThrough) {
                st = n;
            }
        }
        float[] dze = ex.gradient(st.input(0)), dzq = ex.gradient(st.id());
        float[] a = java.util.Arrays.copyOf(dze, batch * 3), b = java.util.Arrays.copyOf(dzq, batch * 3);
        assertArrayEquals(b, a);
        assertNotEquals(0f, a[0]);
        // and the straight-through value is the code itself
        assertArrayEquals(java.util.Arrays.copyOf(ex.value(st.input(1)), batch * 3), java.util.Arrays.copyOf(ex.value(st.id()), batch * 3));
    }

    // ------------------------------------------------------------------ moving averages and revival

    static Node quantizer(Graph g) {
        for (Node n : g.nodes()) {
            if (n.op() instanceof Ops.VectorQuantize) {
                return n;
            }
        }
        throw new AssertionError("no quantizer");
    }

    @Test
    void oneEmaStepIsTheHandComputedStep() {
        ModelSpec spec = Model.encoder(6).vectorQuantized(5, 3).deadCodeThreshold(0f).emaDecay(0.9f).decoder().dense(6).gaussian();
        Graph g = Graph.build(spec).fuse();
        int batch = 10;
        float[] params = Trainer.initialParams(g, SEED);
        ParamSpec e = g.param("quantizer.embedding.weight"), cs = g.param("quantizer.cluster_size"), avg = g.param("quantizer.embed_avg");
        // a state mid-run: sizes and averages not zero
        for (int k = 0; k < 5; k++) {
            params[cs.offset() + k] = 0.5f + k;
            for (int j = 0; j < 3; j++) {
                params[avg.offset() + k * 3 + j] = params[e.offset() + k * 3 + j] * (0.5f + k);
            }
        }
        float[] before = params.clone();
        float[] x = random(batch * 6, 6, 2f);
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        ex.load(g.input, x, 0, batch);
        ex.forward(params, batch, SEED, STREAM);
        int[] index = java.util.Arrays.copyOf(ex.intBuffer(quantizer(g).id(), 1), batch);
        ex.updateRunningStatistics(params);
        double[] p = new double[before.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = before[i];
        }
        double[][] ze = zeOf(g, p, x, batch);
        double decay = 0.9, eps = 1e-5;
        double[] size = new double[5], sum = new double[15];
        for (int k = 0; k < 5; k++) {
            double n = 0;
            double[] s = new double[3];
            for (int r = 0; r < batch; r++) {
                if (index[r] == k) {
                    n++;
                    for (int j = 0; j < 3; j++) {
                        s[j] += ze[r][j];
                    }
                }
            }
            size[k] = decay * before[cs.offset() + k] + (1 - decay) * n;
            for (int j = 0; j < 3; j++) {
                sum[k * 3 + j] = decay * before[avg.offset() + k * 3 + j] + (1 - decay) * s[j];
            }
        }
        double total = java.util.Arrays.stream(size).sum();
        for (int k = 0; k < 5; k++) {
            assertEquals(size[k], params[cs.offset() + k], 1e-6, "cluster size " + k);
            double smoothed = (size[k] + eps) / (total + 5 * eps) * total;
            for (int j = 0; j < 3; j++) {
                assertEquals(sum[k * 3 + j], params[avg.offset() + k * 3 + j], 1e-5, "embed_avg " + k);
                assertEquals(sum[k * 3 + j] / smoothed, params[e.offset() + k * 3 + j], 1e-5, "code " + k);
            }
        }
        assertTrue(new HashSet<>(java.util.Arrays.stream(index).boxed().toList()).size() > 1, "the batch used several codes");
    }

    @Test
    void aDeadCodeIsReseededFromABatchOutputAndItsStateReset() {
        ModelSpec spec = Model.encoder(6).vectorQuantized(5, 3).deadCodeThreshold(0.5f).decoder().dense(6).gaussian();
        Graph g = Graph.build(spec).fuse();
        int batch = 12;
        float[] params = Trainer.initialParams(g, SEED);
        ParamSpec e = g.param("quantizer.embedding.weight"), cs = g.param("quantizer.cluster_size"), avg = g.param("quantizer.embed_avg");
        ParamSpec rev = g.param("quantizer.revived");
        // codes 0-3 busy; code 4 far away (never chosen) with a small usage
        for (int k = 0; k < 5; k++) {
            params[cs.offset() + k] = k == 4 ? 0.01f : 3f;
            for (int j = 0; j < 3; j++) {
                if (k == 4) {
                    params[e.offset() + k * 3 + j] = 1000f;
                }
                params[avg.offset() + k * 3 + j] = params[e.offset() + k * 3 + j] * params[cs.offset() + k];
            }
        }
        float[] x = random(batch * 6, 7, 1f);
        double[] p = new double[params.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = params[i];
        }
        double[][] ze = zeOf(g, p, x, batch);
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        ex.load(g.input, x, 0, batch);
        ex.forward(params, batch, SEED, STREAM);
        int[] index = java.util.Arrays.copyOf(ex.intBuffer(quantizer(g).id(), 1), batch);
        for (int r = 0; r < batch; r++) {
            assertNotEquals(4, index[r]);
        }
        ex.updateRunningStatistics(params);
        // the draw that chose the row
        float[] u = new float[5];
        Philox.fillUniform(u, 0, 5, SEED, STREAM, Ops.VectorQuantize.REVIVAL_STREAM);
        int row = (int) (u[4] * batch);
        // the mean usage after the moving-average step (code 4 had no rows)
        double mean = 0;
        for (int k = 0; k < 4; k++) {
            final int kk = k;
            long n = java.util.Arrays.stream(index).filter(i -> i == kk).count();
            mean += 0.99 * 3 + 0.01 * n;
        }
        mean = (mean + 0.99 * 0.01) / 5;
        assertEquals(mean, params[cs.offset() + 4], 1e-5, "the revived code's usage is reset to the mean");
        double total = 0;
        for (int k = 0; k < 5; k++) {
            total += params[cs.offset() + k];
        }
        double smoothed = (mean + 1e-5) / (total + 5e-5) * total;
        for (int j = 0; j < 3; j++) {
            assertEquals(ze[row][j] * mean, params[avg.offset() + 12 + j], 1e-4 * (1 + Math.abs(ze[row][j])), "embed_avg reset with it");
            assertEquals(ze[row][j] * mean / smoothed, params[e.offset() + 12 + j], 1e-4, "the code is the batch's row " + row);
        }
        assertEquals(1f, params[rev.offset()], "one code revived");
        // the busy codes were not touched by the revival: they are not the far point any more and not row copies by chance
        for (int k = 0; k < 4; k++) {
            assertTrue(params[cs.offset() + k] > 2f, "code " + k + " stays");
        }
    }

    @Test
    void aCodeRevivedUnderGradientUpdatesRestartsItsAdamMoments() {
        ModelSpec spec = Model.encoder(6).vectorQuantized(5, 3).codebookByGradient().deadCodeThreshold(0.5f).decoder().dense(6).gaussian();
        Graph g = Graph.build(spec).fuse();
        int batch = 12;
        float[] params = Trainer.initialParams(g, SEED);
        ParamSpec e = g.param("quantizer.embedding.weight"), cs = g.param("quantizer.cluster_size");
        for (int k = 0; k < 5; k++) {
            params[cs.offset() + k] = k == 4 ? 0.01f : 3f;
            if (k == 4) {
                for (int j = 0; j < 3; j++) {
                    params[e.offset() + k * 3 + j] = 1000f;   // far away: never chosen, so dead
                }
            }
        }
        org.latent4j.train.Optimizer opt = new org.latent4j.train.Optimizer(org.latent4j.train.OptimizerSpec.adam(1e-3f), g.trainableCount());
        float[] grads = new float[params.length];
        java.util.Arrays.fill(grads, 0, g.trainableCount(), 0.5f);
        opt.step(params.clone(), grads, 1e-3f);   // moments of every trained parameter now non-zero
        float[] x = random(batch * 6, 7, 1f);
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        ex.load(g.input, x, 0, batch);
        ex.forward(params, batch, SEED, STREAM);
        List<int[]> resets = new java.util.ArrayList<>();
        ex.updateRunningStatistics(params, (offset, length) -> {
            resets.add(new int[] {offset, length});
            opt.resetMoments(offset, length);
        });
        assertEquals(1, resets.size(), "one code re-seeded, one reset");
        assertArrayEquals(new int[] {e.offset() + 12, 3}, resets.get(0), "the reset covers exactly code 4's vector");
        for (int i = 0; i < g.trainableCount(); i++) {
            boolean revived = i >= e.offset() + 12 && i < e.offset() + 15;
            if (revived) {
                assertEquals(0f, opt.firstMoment()[i], "first moment of the revived code");
                assertEquals(0f, opt.secondMoment()[i], "second moment of the revived code");
            } else {
                assertTrue(opt.firstMoment()[i] != 0f && opt.secondMoment()[i] != 0f, "moment " + i + " (not revived) kept");
            }
        }
        assertTrue(params[e.offset() + 12] != 1000f, "code 4 was re-seeded");
        // with moving averages the codebook is not trained by gradient: nothing to reset
        ModelSpec emaSpec = Model.encoder(6).vectorQuantized(5, 3).deadCodeThreshold(0.5f).decoder().dense(6).gaussian();
        Graph ge = Graph.build(emaSpec).fuse();
        float[] pe = Trainer.initialParams(ge, SEED);
        ParamSpec ee = ge.param("quantizer.embedding.weight"), ce = ge.param("quantizer.cluster_size");
        for (int k = 0; k < 5; k++) {
            pe[ce.offset() + k] = k == 4 ? 0.01f : 3f;
        }
        java.util.Arrays.fill(pe, ee.offset() + 12, ee.offset() + 15, 1000f);
        Executor ex2 = new Executor(Planner.training(ge), Parallelism.serial(), batch);
        ex2.load(ge.input, x, 0, batch);
        ex2.forward(pe, batch, SEED, STREAM);
        resets.clear();
        ex2.updateRunningStatistics(pe, (offset, length) -> resets.add(new int[] {offset, length}));
        assertTrue(resets.isEmpty(), "a moving-average codebook asks for no optimizer reset");
        assertEquals(1f, pe[ge.param("quantizer.revived").offset()], "but its dead code was re-seeded");
    }

    @Test
    void kmeansInitializationIsLloydOnTheFirstBatch() {
        checkKmeans(false);
    }

    @Test
    void cosineKmeansAssignsByCosineSimilarity() {
        checkKmeans(true);
    }

    /** The first step's k-means against a double-precision Lloyd (cosine: rows assigned by cosine similarity, codes the mean of their rows). */
    private static void checkKmeans(boolean cosine) {
        var latent = Model.encoder(6).vectorQuantized(5, 3).kmeansInit(4);
        ModelSpec spec = (cosine ? latent.cosine() : latent).decoder().dense(6).gaussian();
        Graph g = Graph.build(spec).fuse();
        int batch = 40;
        float[] params = Trainer.initialParams(g, SEED);
        float[] x = random(batch * 6, 12, 2f);
        double[] p = new double[params.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = params[i];
        }
        double[][] ze = zeOf(g, p, x, batch);
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        ex.load(g.input, x, 0, batch);
        ex.forward(params, batch, SEED, STREAM);
        ex.updateRunningStatistics(params);
        // the reference: codes drawn among the rows, 4 Lloyd iterations in double
        float[] u = new float[5];
        Philox.fillUniform(u, 0, 5, SEED, STREAM, Ops.VectorQuantize.REVIVAL_STREAM);
        double[][] code = new double[5][];
        for (int k = 0; k < 5; k++) {
            code[k] = ze[(int) (u[k] * batch)].clone();
        }
        int[] assign = new int[batch];
        for (int it = 0; it <= 4; it++) {
            double[][] sum = new double[5][3];
            int[] n = new int[5];
            for (int r = 0; r < batch; r++) {
                int best = 0;
                double bd = Double.POSITIVE_INFINITY;
                for (int k = 0; k < 5; k++) {
                    double d = 0, dot = 0, nr = 0, nc = 0;
                    for (int j = 0; j < 3; j++) {
                        d += (ze[r][j] - code[k][j]) * (ze[r][j] - code[k][j]);
                        dot += ze[r][j] * code[k][j];
                        nr += ze[r][j] * ze[r][j];
                        nc += code[k][j] * code[k][j];
                    }
                    if (cosine) {
                        d = -dot / Math.sqrt(nr * nc);
                    }
                    if (d < bd) {
                        bd = d;
                        best = k;
                    }
                }
                assign[r] = best;
                n[best]++;
                for (int j = 0; j < 3; j++) {
                    sum[best][j] += ze[r][j];
                }
            }
            ParamSpec cs = g.param("quantizer.cluster_size");
            if (it == 4) {
                for (int k = 0; k < 5; k++) {
                    assertEquals(n[k], params[cs.offset() + k], "cluster size " + k + " is its final count");
                }
                break;
            }
            for (int k = 0; k < 5; k++) {
                if (n[k] > 0) {
                    for (int j = 0; j < 3; j++) {
                        code[k][j] = sum[k][j] / n[k];
                    }
                }
            }
        }
        ParamSpec e = g.param("quantizer.embedding.weight");
        for (int k = 0; k < 5; k++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(code[k][j], params[e.offset() + k * 3 + j], 1e-4, "code " + k);
            }
        }
        assertTrue(java.util.Arrays.stream(assign).distinct().count() >= 3, "the k-means used several codes");
    }

    static Set<Integer> used(Graph g, float[] params, float[] x, int rows) {
        Executor ex = new Executor(Planner.forward(g, 0, g.code), Parallelism.serial(), rows);
        ex.load(g.input, x, 0, rows);
        ex.run(params, null, rows, 0, 0, 1f);
        int[] index = ex.intBuffer(quantizer(g).id(), 1);
        Set<Integer> s = new HashSet<>();
        for (int r = 0; r < rows; r++) {
            s.add(index[r]);
        }
        return s;
    }

    @Test
    void revivalRescuesACollapsedInitializationAndWithoutItTheCodebookStaysCollapsed() {
        // 32 clusters in 8 dimensions; a codebook of 32 codes all at one point.
        int rows = 2048, d = 8, codes = 32;
        float[] centres = random(codes * d, 21, 3f), noise = random(rows * d, 22, 0.05f);
        float[] x = new float[rows * d];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < d; j++) {
                x[r * d + j] = centres[(r % codes) * d + j] + noise[r * d + j];
            }
        }
        org.latent4j.data.Dataset data = new org.latent4j.data.Dataset(x, rows, d, null, "clusters");
        org.latent4j.train.TrainingConfig cfg = org.latent4j.train.TrainingConfig.defaults().withEpochs(6).withBatchSize(64).withThreads(1)
                .withOptimizer(org.latent4j.train.OptimizerSpec.adam(3e-3f));
        int[] usedCounts = new int[2];
        for (int revive = 0; revive < 2; revive++) {
            ModelSpec spec = Model.encoder(d).dense(32).relu().vectorQuantized(codes, 4).deadCodeThreshold(revive == 1 ? 0.1f : 0f)
                    .decoder().dense(32).relu().dense(d).gaussian();
            Graph g = Graph.build(spec.withInputDim(d)).fuse();
            float[] init = Trainer.initialParams(g, SEED);
            ParamSpec e = g.param("quantizer.embedding.weight");
            for (int i = 0; i < e.size(); i++) {
                init[e.offset() + i] = 10f; // every code at one point, away from the data
            }
            float[] trained = Trainer.fit(spec, data, null, cfg, org.latent4j.train.TrainingListener.NONE, null, null, init).model().parameters();
            usedCounts[revive] = used(g, trained, x, rows).size();
        }
        System.out.println("collapsed codebook (32 codes at one point): " + usedCounts[0] + " codes used without revival, " + usedCounts[1]
                + " with it");
        assertTrue(usedCounts[0] <= 3, "without revival the codebook stays collapsed: " + usedCounts[0] + " of 32 codes used");
        assertTrue(usedCounts[1] >= 24, "with revival most codes are used: " + usedCounts[1] + " of 32");
    }

    // ------------------------------------------------------------------ FSQ

    @Test
    void fsqRoundsToItsGridAndPassesTheGradientStraightThrough() {
        int[] levels = {8, 5, 5, 5};
        int batch = 3, positions = 4, n = batch * 4 * positions;
        float[] z = random(n, 31, 2f), y = new float[n], dy = random(n, 32, 1f), dz = new float[n];
        VqKernels.fsqForward(y, z, levels, batch, positions);
        VqKernels.fsqBackward(dz, false, dy, z, levels, batch, positions);
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < 4; c++) {
                int l = levels[c];
                double h = (l - 1) * 1.001 / 2, off = l % 2 == 0 ? 0.5 : 0, shift = 0.5 * Math.log((1 + off / h) / (1 - off / h));
                for (int p = 0; p < positions; p++) {
                    int i = (b * 4 + c) * positions + p;
                    double bounded = Math.tanh(z[i] + shift) * h - off;
                    double q = Math.round(bounded);
                    assertEquals(q / (l / 2), y[i], 1e-6, "value " + i);
                    assertTrue(q >= -(l / 2) && q <= l - 1 - l / 2, "level " + q + " of " + l);
                    // straight-through: the gradient of the bounded (unrounded) value, by finite differences
                    double eps = 1e-5;
                    double fd = (Math.tanh(z[i] + eps + shift) - Math.tanh(z[i] - eps + shift)) * h / (2 * eps) / (l / 2);
                    assertEquals(fd * dy[i], dz[i], 1e-4 * (1 + Math.abs(fd * dy[i])), "gradient " + i);
                }
            }
        }
        // indices: every one of the 1000 codes is reachable and maps back to its values
        int[] all = new int[1000];
        for (int i = 0; i < 1000; i++) {
            all[i] = i;
        }
        float[] codes = new float[1000 * 4];
        VqKernels.fsqCodes(codes, all, levels, 1000, 1);
        int[] back = new int[1000];
        VqKernels.fsqIndices(back, codes, levels, 1000, 1);
        assertArrayEquals(all, back);
        // a value from the forward rule maps to an index whose code is that value
        int[] idx = new int[batch * positions];
        VqKernels.fsqIndices(idx, y, levels, batch, positions);
        float[] again = new float[n];
        VqKernels.fsqCodes(again, idx, levels, batch, positions);
        assertArrayEquals(y, again);
    }

    @Test
    void anFsqModelTrainsItsEncoderThroughTheRounding() {
        ModelSpec spec = Model.encoder(6).finiteScalar(5, 3).decoder().dense(6).gaussian();
        Graph g = Graph.build(spec).fuse();
        int batch = 5;
        float[] params = Trainer.initialParams(g, SEED), grads = new float[params.length];
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        ex.load(g.input, random(batch * 6, 8, 1f), 0, batch);
        ex.run(params, grads, batch, SEED, STREAM, 1f);
        ParamSpec w = g.param("quantizer.project.weight");
        double norm = 0;
        for (int i = w.offset(); i < w.offset() + w.size(); i++) {
            norm += grads[i] * grads[i];
        }
        assertTrue(norm > 0, "the projection before the rounding gets a gradient");
        assertEquals(15, new org.latent4j.dsl.LatentSpec.FiniteScalar(List.of(5, 3)).codes());
    }
}
