package org.latent4j.train;

import java.util.Locale;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.HelmholtzSpec;
import org.latent4j.dsl.Model;
import org.latent4j.kernel.Parallelism;
import org.latent4j.model.HelmholtzMachine;

/**
 * Short shifter experiments with wake-sleep (not a test): key=value arguments, e.g.
 * {@code java -cp ... org.latent4j.train.ShifterExperiment layers=24,1 opt=sgd wake=0.01 sleep=0.15 batch=1 epochs=50 seeds=1,2,3}.
 * Prints per seed and per report epoch the held-out log p(x) and the best top unit's accuracy at the
 * shift direction, by the mean-field encoding and by the recognition posterior's mean over samples.
 */
public final class ShifterExperiment {
    private ShifterExperiment() {}

    /** Best single top unit: {mean-field accuracy, sampled-posterior accuracy}. */
    static double[] accuracies(HelmholtzMachine m, Dataset test, int samples) {
        double mf = HelmholtzTrainerTest.bestTopUnitAccuracy(m, test);
        int n = test.rows(), d = 32, top = m.spec().depth() - 1, wt = m.spec().top();
        HelmholtzMachine.Workspace w = new HelmholtzMachine.Workspace(m, n * samples, Parallelism.serial());
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < samples; k++) {
                System.arraycopy(test.x(), r * d, w.h[0], (r * samples + k) * d, d);
            }
        }
        m.recognize(w, n * samples, true, 99, 0x7777_0000L, 0);
        double best = 0;
        for (int j = 0; j < wt; j++) {
            int right = 0;
            for (int r = 0; r < n; r++) {
                double s = 0;
                for (int k = 0; k < samples; k++) {
                    s += w.recognitionProbabilities[top][(r * samples + k) * wt + j];
                }
                right += (s / samples > 0.5 ? 1 : 0) == test.labels()[r] ? 1 : 0;
            }
            best = Math.max(best, Math.max(right, n - right) / (double) n);
        }
        return new double[] {mf, best};
    }

    /** Per middle unit: the pixels its generative weights turn on (row:col), its direction preference, its weights from the top. */
    static void show(HelmholtzMachine m, Dataset test) {
        int w1 = m.spec().width(1), n = test.rows();
        float[] g = m.generative();
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) {
            x[i] = test.row(i);
        }
        HelmholtzMachine.Workspace w = new HelmholtzMachine.Workspace(m, n, Parallelism.serial());
        System.arraycopy(test.x(), 0, w.h[0], 0, n * 32);
        m.recognize(w, n, false, 0, 0, 0);
        for (int j = 0; j < w1; j++) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 32; i++) {
                float v = g[m.generativeWeight(0) + i * w1 + j];
                if (v > 1.5f) {
                    sb.append(' ').append(i / 8).append(':').append(i % 8);
                }
            }
            double right = 0, left = 0;
            int nr = 0;
            for (int r = 0; r < n; r++) {
                double q = w.recognitionProbabilities[1][r * w1 + j];
                if (test.labels()[r] == 1) {
                    right += q;
                    nr++;
                } else {
                    left += q;
                }
            }
            StringBuilder tw = new StringBuilder();
            if (m.spec().depth() > 2) {
                int w2 = m.spec().width(2);
                for (int t = 0; t < w2; t++) {
                    tw.append(String.format(Locale.ROOT, " %+.1f", g[m.generativeWeight(1) + j * w2 + t]));
                }
            }
            System.out.printf(Locale.ROOT, "  h%-2d bias %+.1f  q(on|right) %.2f q(on|left) %.2f  pixels%s  from top%s%n", j,
                    m.spec().depth() > 2 ? g[m.generativeBias(1) + j] : g[m.priorLogits() + j], right / nr, left / (n - nr), sb, tw);
        }
        StringBuilder pr = new StringBuilder();
        for (int t = 0; t < m.spec().top(); t++) {
            pr.append(String.format(Locale.ROOT, " %+.2f", g[m.priorLogits() + t]));
        }
        System.out.println("  prior logits" + pr);
    }

    static void hand(HelmholtzMachine m) {
        HelmholtzMachine h = HelmholtzTrainerTest.shiftDetectorMachine();
        if (!m.spec().equals(h.spec())) {
            throw new IllegalArgumentException("hand wants layers=16,1");
        }
        System.arraycopy(h.generative(), 0, m.generative(), 0, h.generative().length);
        System.arraycopy(h.recognition(), 0, m.recognition(), 0, h.recognition().length);
    }

    public static void main(String[] args) {
        java.util.Map<String, String> a = new java.util.HashMap<>();
        for (String s : args) {
            a.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
        }
        String[] ls = a.getOrDefault("layers", "16,4").split(",");
        int[] widths = new int[ls.length];
        for (int i = 0; i < ls.length; i++) {
            widths[i] = Integer.parseInt(ls[i]);
        }
        HelmholtzSpec spec = Model.helmholtz(32).layers(widths);
        String opt = a.getOrDefault("opt", "sgd");
        float wake = Float.parseFloat(a.getOrDefault("wake", "0.01")), sleep = Float.parseFloat(a.getOrDefault("sleep", "0.01"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "1")), epochs = Integer.parseInt(a.getOrDefault("epochs", "20"));
        int rows = Integer.parseInt(a.getOrDefault("rows", "4000")), report = Integer.parseInt(a.getOrDefault("report", "" + epochs));
        float pOn = Float.parseFloat(a.getOrDefault("pon", "0.2")), init = Float.parseFloat(a.getOrDefault("init", "1"));
        boolean rws = a.containsKey("rws");
        float wd = Float.parseFloat(a.getOrDefault("wd", "0"));
        Dataset train = HelmholtzTrainerTest.shifter(rows, 1, pOn), test = HelmholtzTrainerTest.shifter(1000, 2, pOn);
        for (String ss : a.getOrDefault("seeds", "1").split(",")) {
            long seed = Long.parseLong(ss);
            OptimizerSpec os = opt.equals("adam") ? OptimizerSpec.adam(wake) : new OptimizerSpec(OptimizerSpec.Kind.SGD, wake, 0f, false, 0.9f, 0.999f, 1e-8f, wd);
            TrainingProcedure p = rws ? new TrainingProcedure.ReweightedWakeSleep(Integer.parseInt(a.get("rws")), false, wake, sleep)
                    : new TrainingProcedure.WakeSleep(wake, sleep);
            HelmholtzMachine m = HelmholtzMachine.initial(spec, seed, init);
            if (init == 0f) {
                java.util.Arrays.fill(m.generative(), 0f);
                java.util.Arrays.fill(m.recognition(), 0f);
            }
            HelmholtzTrainer.visibleBiasFromData(m, train);
            if (a.containsKey("hbias")) {
                float hb = Float.parseFloat(a.get("hbias"));
                for (int l = 1; l + 1 < spec.depth(); l++) {
                    java.util.Arrays.fill(m.generative(), m.generativeBias(l), m.generativeBias(l) + spec.width(l), hb);
                }
                java.util.Arrays.fill(m.generative(), m.priorLogits(), m.priorLogits() + spec.top(), hb);
                for (int l = 0; l + 1 < spec.depth(); l++) {
                    java.util.Arrays.fill(m.recognition(), m.recognitionBias(l), m.recognitionBias(l) + spec.width(l + 1), hb);
                }
            }
            if (a.containsKey("hand")) {
                hand(m);
                if (a.get("hand").equals("middle")) {
                    // keep the detectors (layer 0 both ways), start the top layer afresh from the seed
                    HelmholtzMachine r0 = HelmholtzMachine.initial(spec, seed, init);
                    System.arraycopy(r0.generative(), m.generativeWeight(1), m.generative(), m.generativeWeight(1), 16);
                    java.util.Arrays.fill(m.generative(), m.generativeBias(1), m.generativeBias(1) + 16, -2.2f);
                    m.generative()[m.priorLogits()] = 0f;
                    System.arraycopy(r0.recognition(), m.recognitionWeight(1), m.recognition(), m.recognitionWeight(1), 16);
                    m.recognition()[m.recognitionBias(1)] = 0f;
                }
                double[] acc = accuracies(m, test, 32);
                System.out.printf(Locale.ROOT, "hand-made machine: log p(x) %.3f, best top unit mean-field %.3f, sampled %.3f%n",
                        m.logLikelihood(test.x(), test.rows(), 20, 5, Parallelism.serial()).meanLogLikelihood(), acc[0], acc[1]);
            }
            long t0 = System.nanoTime();
            for (int done = 0; done < epochs; done += report) {
                TrainingConfig cfg = new TrainingConfig(os, batch, report, seed * 1000 + done, 1, 1f, 0f, true);
                HelmholtzTrainer.Result r = HelmholtzTrainer.fit(m, train, test, cfg, p, 20, TrainingListener.NONE, null);
                m = r.model();
                double[] acc = accuracies(m, test, 32);
                System.out.printf(Locale.ROOT, "seed %d epoch %d (%.2fM images, %.0f s): log p(x) %.3f, best top unit mean-field %.3f, sampled %.3f%n",
                        seed, done + report, (double) (done + report) * rows / 1e6, (System.nanoTime() - t0) / 1e9,
                        r.history().get(r.history().size() - 1).validationLogLikelihood(), acc[0], acc[1]);
            }
            if (a.containsKey("show")) {
                show(m, test);
            }
        }
    }
}
