package org.latent4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.data.Dataset;
import org.latent4j.io.Pictures;
import org.latent4j.kernel.Shape;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.CodePrior;
import org.latent4j.model.DiscreteCodes;
import org.latent4j.model.Metrics;
import org.latent4j.train.QuantizerHealth;

/** What a training run adds for a model with a discrete latent: codebook health in metrics.json, the usage picture, prior samples. */
final class VqRun {
    private VqRun() {}

    /** Rows a run's prior is fitted on, and the held-out rows its figures use (the first ones). */
    static final int PRIOR_ROWS = 10_000, TEST_ROWS = 10_000;

    static float[][] rows(Dataset d, int max) {
        float[][] r = new float[Math.min(max, d.rows())][];
        for (int i = 0; i < r.length; i++) {
            r[i] = d.row(i);
        }
        return r;
    }

    /** The codebook's health of each epoch as metrics.json's "quantizer" entries (also quantizer.json's, written while a run trains). */
    static List<Object> healthEntries(List<QuantizerHealth> health) {
        List<Object> list = new ArrayList<>();
        for (QuantizerHealth h : health) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("epoch", h.epoch());
            e.put("codes", h.codes());
            e.put("codes_used", h.used());
            e.put("used_fraction", h.usedFraction());
            e.put("perplexity", h.perplexity());
            e.put("revived", h.revived());
            e.put("codebook_loss", h.codebookLoss());
            e.put("commitment_loss", h.commitmentLoss());
            if (h.warning() != null) {
                e.put("warning", h.warning());
            }
            list.add(e);
        }
        return list;
    }

    /**
     * metrics.json: "quantizer" (the health of each epoch), "bits_per_image" (positions x
     * log2(codes), the indices at a fixed length), the held-out rows' "test_mse" and "test_psnr"
     * (peak 1), and the mean bits per held-out image under a categorical and a Markov prior fitted on
     * the training rows' codes ("test_prior_bits").
     */
    static void metrics(Map<String, Object> metrics, Autoencoder model, List<QuantizerHealth> health, Dataset train, Dataset test) {
        DiscreteCodes dc = DiscreteCodes.of(model);
        metrics.put("quantizer", healthEntries(health));
        metrics.put("code_positions", dc.positions());
        metrics.put("bits_per_image", dc.bitsPerImage());
        float[][] x = rows(test, TEST_ROWS);
        float[][] rec = model.reconstruct(x);
        metrics.put("test_mse", Metrics.mse(x, rec));
        metrics.put("test_psnr", Metrics.psnr(x, rec, 1.0));
        int[][] trainCodes = dc.encodeIndices(rows(train, PRIOR_ROWS)), testCodes = dc.encodeIndices(x);
        Map<String, Object> bits = new LinkedHashMap<>();
        for (CodePrior.Kind k : CodePrior.Kind.values()) {
            CodePrior prior = CodePrior.fit(k, trainCodes, dc.positions(), dc.codes());
            double s = 0;
            for (int[] row : testCodes) {
                s += prior.bits(row);
            }
            bits.put(k.name().toLowerCase(java.util.Locale.ROOT), s / testCodes.length);
        }
        metrics.put("test_prior_bits", bits);
    }

    /** code_usage.png, and samples.png / interpolation.png for a VQ or FSQ model (drawn from its prior, quantized along the way). */
    static List<String> pictures(Path dir, Autoencoder model, Dataset train, Dataset test, List<QuantizerHealth> health) throws IOException {
        DiscreteCodes dc = DiscreteCodes.of(model);
        List<String> out = new ArrayList<>();
        if (!health.isEmpty()) {
            QuantizerHealth h = health.get(health.size() - 1);
            long[] c = h.counts().clone();
            java.util.Arrays.sort(c);
            long total = java.util.Arrays.stream(c).sum();
            double[] share = new double[c.length];
            for (int i = 0; i < c.length; i++) {
                share[i] = 100.0 * c[c.length - 1 - i] / Math.max(1, total);
            }
            Pictures.lineChart(dir.resolve("code_usage.png"), String.format(java.util.Locale.ROOT,
                    "Code usage, epoch %d: %d/%d codes used, perplexity %.1f", h.epoch(), h.used(), h.codes(), h.perplexity()),
                    "codes by rank (most used first)", null, List.of(new Pictures.Series("% of positions", share, Pictures.PALETTE[0])));
            out.add("code_usage.png");
        }
        Shape image = UseCommands.pictureShape(model, test);
        if (image == null) {
            return out;
        }
        int[][] codes = dc.encodeIndices(rows(train, PRIOR_ROWS));
        CodePrior prior = CodePrior.fit(CodePrior.Kind.MARKOV, codes, dc.positions(), dc.codes());
        float[][] samples = dc.decodeIndices(prior.sample(64, 2024));
        Pictures.imageGrid(dir.resolve("samples.png"), samples, 8, image.width(), image.height(), 3,
                "Samples: 64 code grids drawn from a Markov prior over the codes (fitted on the training codes), decoded", null);
        float[][][] strips = new float[4][][];
        for (int p = 0; p < strips.length; p++) {
            strips[p] = dc.interpolate(test.row(2 * p), test.row(2 * p + 1), 10);
        }
        String[] pairs = new String[strips.length];
        for (int p = 0; p < pairs.length; p++) {
            pairs[p] = String.format(java.util.Locale.ROOT, "image %d to %d", 2 * p, 2 * p + 1);
        }
        Pictures.interpolationStrip(dir.resolve("interpolation.png"), strips, image.width(), image.height(), 3,
                "Linear interpolation of the encoder outputs z_e, quantized at each step", pairs);
        return out;
    }
}
