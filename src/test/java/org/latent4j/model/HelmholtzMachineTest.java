package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.dsl.HelmholtzSpec;
import org.latent4j.dsl.Model;
import org.latent4j.io.SafeTensors;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;

/**
 * The Helmholtz machine's passes against independent double-precision references: exact
 * enumeration of every hidden state of a machine small enough (8 visible, 4 + 3 hidden), a
 * scalar twin of log p(x, h) and log q(h | x), finite differences of the importance-weighted
 * bound, and update rules computed by hand on a machine whose units are all but deterministic.
 */
public class HelmholtzMachineTest {
    static final HelmholtzSpec SMALL = Model.helmholtz(8).layers(4, 3);

    /** A machine with weights of a visible size (so posteriors are far from factorial) and nonzero biases. */
    public static HelmholtzMachine random(HelmholtzSpec spec, long seed, float scale) {
        HelmholtzMachine m = HelmholtzMachine.initial(spec, seed, scale);
        float[] b = new float[300];
        Philox.fillNormal(b, 0, b.length, seed, 99, 0);
        for (int l = 0; l + 1 < spec.depth(); l++) {
            for (int j = 0; j < spec.width(l); j++) {
                m.generative()[m.generativeBias(l) + j] = 0.5f * b[j];
            }
            for (int j = 0; j < spec.width(l + 1); j++) {
                m.recognition()[m.recognitionBias(l) + j] = 0.5f * b[100 + j];
            }
        }
        for (int j = 0; j < spec.top(); j++) {
            m.generative()[m.priorLogits() + j] = b[200 + j];
        }
        return m;
    }

    // ------------------------------------------------------------------ double twin

    public static double sigmoid(double a) {
        return 1 / (1 + Math.exp(-a));
    }

    /** log Bernoulli(x | sigmoid(a)) in double. */
    static double logBern(double x, double a) {
        return x * a - (Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a))));
    }

    /** Logits of layer l given layer l+1 (generative) in double. */
    public static double[] genLogits(HelmholtzMachine m, int l, double[] above) {
        HelmholtzSpec s = m.spec();
        int wo = s.width(l), wi = s.width(l + 1);
        double[] a = new double[wo];
        for (int i = 0; i < wo; i++) {
            a[i] = m.generative()[m.generativeBias(l) + i];
            for (int j = 0; j < wi; j++) {
                a[i] += (double) m.generative()[m.generativeWeight(l) + i * wi + j] * above[j];
            }
        }
        return a;
    }

    /** Logits of layer l+1 given layer l (recognition) in double. */
    public static double[] recLogits(HelmholtzMachine m, int l, double[] below) {
        HelmholtzSpec s = m.spec();
        int wi = s.width(l), wo = s.width(l + 1);
        double[] a = new double[wo];
        for (int i = 0; i < wo; i++) {
            a[i] = m.recognition()[m.recognitionBias(l) + i];
            for (int j = 0; j < wi; j++) {
                a[i] += (double) m.recognition()[m.recognitionWeight(l) + i * wi + j] * below[j];
            }
        }
        return a;
    }

    /** log p(h_0 .. h_L) in double; h[0] = x. */
    public static double logJoint(HelmholtzMachine m, double[][] h) {
        int top = m.spec().depth() - 1;
        double s = 0;
        for (int j = 0; j < m.spec().top(); j++) {
            s += logBern(h[top][j], m.generative()[m.priorLogits() + j]);
        }
        for (int l = 0; l < top; l++) {
            double[] a = genLogits(m, l, h[l + 1]);
            for (int i = 0; i < a.length; i++) {
                s += logBern(h[l][i], a[i]);
            }
        }
        return s;
    }

    /** log q(h_1 .. h_L | x) in double. */
    public static double logRecognition(HelmholtzMachine m, double[][] h) {
        double s = 0;
        for (int l = 0; l + 1 < m.spec().depth(); l++) {
            double[] a = recLogits(m, l, h[l]);
            for (int i = 0; i < a.length; i++) {
                s += logBern(h[l + 1][i], a[i]);
            }
        }
        return s;
    }

    static double[] bits(int code, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (code >> i) & 1;
        }
        return v;
    }

    /** Every hidden configuration of the 8-4-3 machine with x fixed, as {h0, h1, h2}. */
    static List<double[][]> configurations(double[] x) {
        List<double[][]> out = new ArrayList<>();
        for (int a = 0; a < 16; a++) {
            for (int b = 0; b < 8; b++) {
                out.add(new double[][] {x, bits(a, 4), bits(b, 3)});
            }
        }
        return out;
    }

    /** Exact log p(x) = log sum_h p(x, h) over all 2^7 hidden states. */
    static double exactLogLikelihood(HelmholtzMachine m, double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        List<double[][]> cs = configurations(x);
        double[] v = new double[cs.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = logJoint(m, cs.get(i));
            max = Math.max(max, v[i]);
        }
        double s = 0;
        for (double e : v) {
            s += Math.exp(e - max);
        }
        return max + Math.log(s);
    }

    /** Exact ELBO = sum_h q(h | x) (log p(x, h) - log q(h | x)). */
    static double exactElbo(HelmholtzMachine m, double[] x) {
        double s = 0;
        for (double[][] h : configurations(x)) {
            double lq = logRecognition(m, h);
            s += Math.exp(lq) * (logJoint(m, h) - lq);
        }
        return s;
    }

    static float[] rowsOf(double[][] xs) {
        float[] out = new float[xs.length * xs[0].length];
        for (int r = 0; r < xs.length; r++) {
            for (int c = 0; c < xs[r].length; c++) {
                out[r * xs[r].length + c] = (float) xs[r][c];
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ tests

    @Test
    void scoresOfEveryStateEqualTheDoubleTwin() {
        HelmholtzMachine m = random(SMALL, 3, 1.5f);
        double[] x = bits(0b10110010, 8);
        List<double[][]> cs = configurations(x);
        HelmholtzMachine.Workspace w = new HelmholtzMachine.Workspace(m, cs.size(), Parallelism.serial());
        for (int i = 0; i < cs.size(); i++) {
            for (int l = 0; l < 3; l++) {
                for (int j = 0; j < cs.get(i)[l].length; j++) {
                    w.h[l][i * cs.get(i)[l].length + j] = (float) cs.get(i)[l][j];
                }
            }
        }
        m.scoreGenerative(w, cs.size());
        double total = 0;
        for (int i = 0; i < cs.size(); i++) {
            assertEquals(logJoint(m, cs.get(i)), w.logP[i], 1e-5, "log p(x, h) of configuration " + i);
            total += Math.exp(w.logP[i]);
        }
        // p(x) summed over x as well is 1: here the sum over h for one x is p(x), which is at most 1.
        assertTrue(total > 0 && total <= 1);
    }

    @Test
    void theJointSumsToOneOverEveryVisibleAndHiddenState() {
        HelmholtzMachine m = random(SMALL, 5, 1.5f);
        double s = 0;
        for (int x = 0; x < 256; x++) {
            s += Math.exp(exactLogLikelihood(m, bits(x, 8)));
        }
        assertEquals(1.0, s, 1e-9, "sum_x p(x) by enumeration");
    }

    @Test
    void importanceSampledLogLikelihoodTightensWithKAndStaysBelowTheExactValue() {
        HelmholtzMachine m = random(SMALL, 11, 1.5f);
        int rows = 6;
        double[][] xs = new double[rows][];
        for (int r = 0; r < rows; r++) {
            xs[r] = bits(new int[] {0b10110010, 0b00000000, 0b11111111, 0b01010101, 0b11000011, 0b00111000}[r], 8);
        }
        float[] x = rowsOf(xs);
        int[] ks = {1, 5, 25, 100, 500};
        int repeats = 40;
        double[] gap = new double[ks.length];
        for (int r = 0; r < rows; r++) {
            double exact = exactLogLikelihood(m, xs[r]);
            double elbo = exactElbo(m, xs[r]);
            assertTrue(elbo < exact - 0.05, "the bound is below log p(x) by a visible gap: " + elbo + " vs " + exact);
            double meanBound = 0;
            for (int ki = 0; ki < ks.length; ki++) {
                double mean = 0, sq = 0;
                for (int rep = 0; rep < repeats; rep++) {
                    HelmholtzMachine.Estimate e = m.logLikelihood(x, rows, ks[ki], 1000L * rep + ki, Parallelism.serial());
                    mean += e.logLikelihood()[r] / repeats;
                    sq += e.logLikelihood()[r] * e.logLikelihood()[r] / repeats;
                    if (ki == 0) {
                        assertEquals(e.bound()[r], e.logLikelihood()[r], 1e-12, "with K = 1 the estimate is the bound's sample");
                    }
                    if (ki == ks.length - 1) {
                        meanBound += e.bound()[r] / repeats;
                    }
                }
                gap[ki] += (exact - mean) / rows;
                // Below log p(x) on average: the mean of the repeats is not above it by more than 3 standard errors.
                double se = Math.sqrt(Math.max(0, sq - mean * mean) / (repeats - 1));
                assertTrue(mean < exact + 3 * se + 1e-9, "K = " + ks[ki] + ": the estimate averages " + mean + " (standard error " + se
                        + ") above log p(x) = " + exact);
            }
            // The mean log weight over 40 x 500 draws estimates the ELBO (exact by enumeration).
            assertEquals(elbo, meanBound, 0.1, "mean log weight vs the exact ELBO");
        }
        for (int ki = 1; ki < ks.length; ki++) {
            assertTrue(gap[ki] < gap[ki - 1], "the gap shrinks with K: " + java.util.Arrays.toString(gap));
        }
        assertTrue(gap[0] > 0.2 && gap[ks.length - 1] < 0.15, "K = 1 gap " + gap[0] + ", K = 500 gap " + gap[ks.length - 1]);
    }

    @Test
    void theWakeRuleIsTheLocalDeltaRuleComputedByHand() {
        // 2 visible, 1 hidden. The recognition bias of +30 makes h = 1 for sure; the generative net is all zero,
        // so p(x_i = 1 | h) = 1/2 and p(h = 1) = 1/2. For x = (1, 0):
        // dG = (x - 1/2) h = (1/2, -1/2), db = (1/2, -1/2), da = h - 1/2 = 1/2.
        HelmholtzMachine m = HelmholtzMachine.of(Model.helmholtz(2).layers(1), new float[2 + 2 + 1], new float[2 + 1]);
        m.recognition()[m.recognitionBias(0)] = 30f;
        HelmholtzMachine.Workspace w = new HelmholtzMachine.Workspace(m, 1, Parallelism.serial());
        w.h[0][0] = 1f;
        w.h[0][1] = 0f;
        m.recognize(w, 1, true, 7, 0, 0);
        assertEquals(1f, w.h[1][0]);
        m.scoreGenerative(w, 1);
        assertEquals(3 * Math.log(0.5), w.logP[0], 1e-6, "log p(x, h) = 3 log 1/2");
        w.rowScale[0] = 1f;
        m.generativeGradient(w, 1);
        float[] g = w.generativeGradient;
        assertArrayEquals(new float[] {0.5f, -0.5f}, new float[] {g[m.generativeWeight(0)], g[m.generativeWeight(0) + 1]});
        assertArrayEquals(new float[] {0.5f, -0.5f}, new float[] {g[m.generativeBias(0)], g[m.generativeBias(0) + 1]});
        assertEquals(0.5f, g[m.priorLogits()]);
    }

    @Test
    void theSleepRuleIsTheDeltaRuleOfTheRecognitionNetComputedByHand() {
        // The prior's logit +30 dreams h = 1; generative biases (+30, -30) dream x = (1, 0). With the recognition
        // net all zero q(h = 1 | x) = 1/2, so dR = (h - 1/2) x^T = (1/2, 0) and dc = 1/2; a scale of -2 doubles and flips.
        HelmholtzMachine m = HelmholtzMachine.of(Model.helmholtz(2).layers(1), new float[2 + 2 + 1], new float[2 + 1]);
        m.generative()[m.priorLogits()] = 30f;
        m.generative()[m.generativeBias(0)] = 30f;
        m.generative()[m.generativeBias(0) + 1] = -30f;
        HelmholtzMachine.Workspace w = new HelmholtzMachine.Workspace(m, 1, Parallelism.serial());
        m.dream(w, 1, true, 3, 0, 0);
        assertArrayEquals(new float[] {1f, 0f}, new float[] {w.h[0][0], w.h[0][1]});
        assertEquals(1f, w.h[1][0]);
        m.recognitionProbabilities(w, 1);
        assertEquals(0.5f, w.recognitionProbabilities[1][0]);
        w.rowScale[0] = -2f;
        m.recognitionGradient(w, 1, false);
        float[] g = w.recognitionGradient;
        assertArrayEquals(new float[] {-1f, 0f, -1f}, new float[] {g[m.recognitionWeight(0)], g[m.recognitionWeight(0) + 1],
                g[m.recognitionBias(0)]});
        // accumulate adds a second copy
        m.recognitionProbabilities(w, 1);
        m.recognitionGradient(w, 1, true);
        assertEquals(-2f, w.recognitionGradient[m.recognitionBias(0)]);
    }

    @Test
    void weightedGradientsEqualFiniteDifferencesOfTheImportanceWeightedBound() {
        // With the samples h^k fixed, d/dtheta_p log sum_k w_k = sum_k wn_k d log p(x, h^k) / dtheta_p (wn the normalized
        // weights), and sum_k wn_k d log q(h^k | x) / dtheta_q is the derivative of sum_k wn_k log q(h^k | x) with wn held.
        HelmholtzMachine m = random(SMALL, 21, 1.2f);
        int k = 6;
        double[] x = bits(0b01101101, 8);
        HelmholtzMachine.Workspace w = new HelmholtzMachine.Workspace(m, k, Parallelism.serial());
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < 8; j++) {
                w.h[0][i * 8 + j] = (float) x[j];
            }
        }
        m.recognize(w, k, true, 5, 40, 0);
        double[][][] hs = new double[k][3][];
        for (int i = 0; i < k; i++) {
            for (int l = 0; l < 3; l++) {
                int wl = SMALL.width(l);
                hs[i][l] = new double[wl];
                for (int j = 0; j < wl; j++) {
                    hs[i][l][j] = w.h[l][i * wl + j];
                }
            }
            assertEquals(logRecognition(m, hs[i]), w.logQ[i], 1e-5);
        }
        m.scoreGenerative(w, k);
        double[] lw = new double[k];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < k; i++) {
            lw[i] = w.logP[i] - w.logQ[i];
            max = Math.max(max, lw[i]);
        }
        double z = 0;
        for (double v : lw) {
            z += Math.exp(v - max);
        }
        double[] wn = new double[k];
        for (int i = 0; i < k; i++) {
            wn[i] = Math.exp(lw[i] - max) / z;
            w.rowScale[i] = (float) wn[i];
        }
        m.generativeGradient(w, k);
        m.recognitionGradient(w, k, false);
        float[] gp = w.generativeGradient.clone(), gq = w.recognitionGradient.clone();
        double eps = 1e-3;
        for (int idx = 0; idx < m.generative().length; idx++) {
            float keep = m.generative()[idx];
            double[] f = new double[2];
            for (int side = 0; side < 2; side++) {
                m.generative()[idx] = (float) (keep + (side == 0 ? eps : -eps));
                double mx = Double.NEGATIVE_INFINITY;
                double[] v = new double[k];
                for (int i = 0; i < k; i++) {
                    v[i] = logJoint(m, hs[i]) - logRecognition(m, hs[i]);
                    mx = Math.max(mx, v[i]);
                }
                double s = 0;
                for (double e : v) {
                    s += Math.exp(e - mx);
                }
                f[side] = mx + Math.log(s);
            }
            m.generative()[idx] = keep;
            double fd = (f[0] - f[1]) / (2 * eps);
            assertEquals(fd, gp[idx], 2e-3 * Math.max(1, Math.abs(fd)), "generative parameter " + idx);
        }
        for (int idx = 0; idx < m.recognition().length; idx++) {
            float keep = m.recognition()[idx];
            double[] f = new double[2];
            for (int side = 0; side < 2; side++) {
                m.recognition()[idx] = (float) (keep + (side == 0 ? eps : -eps));
                for (int i = 0; i < k; i++) {
                    f[side] += wn[i] * logRecognition(m, hs[i]);
                }
            }
            m.recognition()[idx] = keep;
            double fd = (f[0] - f[1]) / (2 * eps);
            assertEquals(fd, gq[idx], 2e-3 * Math.max(1, Math.abs(fd)), "recognition parameter " + idx);
        }
    }

    @Test
    void dreamsFollowThePriorAndTheLayersDistributions() {
        // The frequency of each visible pattern among many dreams matches p(x) by enumeration.
        HelmholtzMachine m = random(SMALL, 8, 1.5f);
        int n = 40_000;
        HelmholtzMachine.Workspace w = new HelmholtzMachine.Workspace(m, n, Parallelism.serial());
        m.dream(w, n, true, 17, 0, 0);
        int[] counts = new int[256];
        for (int r = 0; r < n; r++) {
            int code = 0;
            for (int j = 0; j < 8; j++) {
                code |= (w.h[0][r * 8 + j] == 1f ? 1 : 0) << j;
            }
            counts[code]++;
        }
        double chi = 0;
        int cells = 0;
        for (int c = 0; c < 256; c++) {
            double e = n * Math.exp(exactLogLikelihood(m, bits(c, 8)));
            if (e >= 5) {
                chi += (counts[c] - e) * (counts[c] - e) / e;
                cells++;
            }
        }
        assertTrue(cells > 50, "cells " + cells);
        // chi-square with ~cells degrees of freedom: mean cells, sd sqrt(2 cells)
        assertTrue(chi < cells + 5 * Math.sqrt(2.0 * cells), "chi-square " + chi + " over " + cells + " cells");
    }

    @Test
    void usesAreDeterministicAndShaped() {
        HelmholtzMachine m = random(SMALL, 4, 1f);
        float[][] x = {rowsOf(new double[][] {bits(3, 8)}), rowsOf(new double[][] {bits(200, 8)})};
        float[][] codes = m.encode(x);
        assertEquals(2, codes.length);
        assertEquals(3, codes[0].length);
        // encode is the mean-field pass: sigmoid(R_1 sigmoid(R_0 x + c_0) + c_1)
        double[] h1 = recLogits(m, 0, bits(3, 8));
        for (int j = 0; j < h1.length; j++) {
            h1[j] = sigmoid(h1[j]);
        }
        double[] h2 = recLogits(m, 1, h1);
        for (int j = 0; j < 3; j++) {
            assertEquals(sigmoid(h2[j]), codes[0][j], 1e-5);
        }
        assertArrayEquals(m.reconstruct(x)[1], m.decode(m.encode(x))[1]);
        float[][] s1 = m.sample(5, 9), s2 = m.sample(5, 9), s3 = m.sample(5, 10);
        for (int r = 0; r < 5; r++) {
            assertArrayEquals(s1[r], s2[r]);
        }
        assertTrue(!java.util.Arrays.equals(s1[0], s3[0]) || !java.util.Arrays.equals(s1[1], s3[1]), "another seed, other dreams");
        double[] sc = m.score(x);
        assertArrayEquals(sc, m.score(x));
        assertEquals(-m.logLikelihood(rowsOf(new double[][] {bits(3, 8), bits(200, 8)}), 2, HelmholtzMachine.SCORE_SAMPLES, 0,
                Parallelism.serial()).logLikelihood()[1], sc[1], 1e-12, "score is the K = 100 estimate of -log p(x)");
        assertEquals(-exactLogLikelihood(m, bits(3, 8)), sc[0], 0.5, "score vs the exact -log p(x)");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.encode(new float[][] {new float[7]}));
        assertTrue(e.getMessage().contains("row 0 has 7 values"), e.getMessage());
    }

    @Test
    void savesWithPyTorchNamesAndLoadsThroughModels(@TempDir Path dir) throws IOException {
        HelmholtzMachine m = random(SMALL, 6, 1f);
        Path f = dir.resolve("hm.safetensors");
        m.save(f);
        LatentModel back = Models.load(f);
        HelmholtzMachine h = assertInstanceOf(HelmholtzMachine.class, back);
        assertEquals(SMALL, h.spec());
        assertArrayEquals(m.generative(), h.generative());
        assertArrayEquals(m.recognition(), h.recognition());
        SafeTensors.Contents c = SafeTensors.read(f);
        assertEquals(List.of("generative.0.bias", "generative.0.weight", "generative.1.bias", "generative.1.weight", "prior.logits",
                "recognition.0.bias", "recognition.0.weight", "recognition.1.bias", "recognition.1.weight"),
                c.tensors().keySet().stream().sorted().toList());
        assertArrayEquals(new int[] {4, 8}, c.tensors().get("recognition.0.weight").shape());
        assertArrayEquals(new int[] {8, 4}, c.tensors().get("generative.0.weight").shape());
        // A file missing a tensor, or with a wrong shape, is refused with its name.
        List<SafeTensors.Entry> es = new ArrayList<>(m.tensors());
        es.removeIf(e -> e.name().equals("generative.1.weight"));
        Path bad = dir.resolve("bad.safetensors");
        SafeTensors.write(bad, Map.of(HelmholtzMachine.SPEC_KEY, SMALL.toJson()), es);
        IOException e = assertThrows(IOException.class, () -> Models.load(bad));
        assertTrue(e.getMessage().contains("generative.1.weight is missing"), e.getMessage());
        SafeTensors.write(bad, Map.of(HelmholtzMachine.SPEC_KEY, Model.helmholtz(8).layers(4, 2).toJson()), m.tensors());
        e = assertThrows(IOException.class, () -> Models.load(bad));
        assertTrue(e.getMessage().contains("has shape [3, 4] but the spec needs [2, 4]"), e.getMessage());
        Files.delete(bad);
    }

    @Test
    void specsRoundTripThroughJsonAndBadOnesAreNamed() {
        HelmholtzSpec s = Model.helmholtz(784).layers(200, 200);
        assertEquals(s, HelmholtzSpec.fromJson(s.toJson()));
        assertTrue(HelmholtzSpec.isHelmholtzJson(s.toJson()));
        assertEquals(2 * (784 * 200 + 200 * 200) + 784 + 200 + 200 + 200 + 200, s.parameterCount());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HelmholtzSpec.fromJson("{\"format\":\"latent4j-helmholtz\",\"version\":1,\"visible\":784,\"layers\":[200,-3]}"));
        assertTrue(e.getMessage().contains("layers[1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Model.helmholtz(784).layers());
        assertTrue(e.getMessage().contains("at least one hidden layer"), e.getMessage());
    }
}
