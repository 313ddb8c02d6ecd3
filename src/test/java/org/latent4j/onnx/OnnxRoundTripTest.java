package org.latent4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.dsl.Model;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;
import org.latent4j.linear.Ppca;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.LinearModel;
import org.latent4j.model.Scaling;

/**
 * latent4j's own ONNX exports ({@link OnnxExport}: encoder.onnx, decoder.onnx, reconstruct.onnx)
 * read back by {@link OnnxModel} give the model's encode, log-variance, decode and reconstruct to
 * 1e-5 for the model kinds whose operators OnnxModel runs: dense VAEs and autoencoders (batch norm,
 * activations with parameters, dropout), the three input scalings, a conditional VAE (two inputs,
 * Concat), a convolutional autoencoder (conv, batch norm on channels, a residual block, reshape, a
 * transposed conv), a VAE with a clamped log-variance (Clip), max and average pooling, a nearest
 * upsampling decoder (Resize), PCA and PPCA (its log-variance Expanded to the batch through Shape).
 * An operator OnnxModel does not run is refused, naming the node.
 */
class OnnxRoundTripTest {
    static float[] flat(float[][] rows) {
        int d = rows[0].length;
        float[] v = new float[rows.length * d];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, v, r * d, d);
        }
        return v;
    }

    static void close(float[][] want, float[] got, String what) {
        float[] w = flat(want);
        assertEquals(w.length, got.length, what);
        for (int i = 0; i < w.length; i++) {
            double err = Math.abs((double) w[i] - got[i]) / Math.max(1, Math.abs(w[i]));
            assertTrue(err <= 1e-5, what + " [" + i + "]: latent4j " + w[i] + ", OnnxModel " + got[i]);
        }
    }

    static void check(Autoencoder m, float[][] x, float[][] c, Path dir) throws IOException {
        OnnxExport.write(m, dir);
        int n = x.length;
        Map<String, float[]> in = new HashMap<>();
        in.put("x", flat(x));
        if (c != null) {
            in.put("condition", flat(c));
        }
        Map<String, float[]> enc = OnnxModel.load(dir.resolve("encoder.onnx")).run(n, in);
        if (m.spec().isVariational()) {
            close(c == null ? m.encode(x) : m.encode(x, c), enc.get("mu"), "mu");
            close(c == null ? m.encodeLogVariance(x) : m.encodeLogVariance(x, c), enc.get("logvar"), "logvar");
        } else {
            close(m.encode(x), enc.get("code"), "code");
        }
        float[][] z = OnnxExportTest.rows(n, m.latentDim(), -1.5, 1.5);
        Map<String, float[]> din = new HashMap<>();
        din.put("z", flat(z));
        if (c != null) {
            din.put("condition", flat(c));
        }
        close(c == null ? m.decode(z) : m.decode(z, c), OnnxModel.load(dir.resolve("decoder.onnx")).run(n, din).get("reconstruction"), "decode");
        close(c == null ? m.reconstruct(x) : m.reconstruct(x, c), OnnxModel.load(dir.resolve("reconstruct.onnx")).run(n, in).get("reconstruction"),
                "reconstruct");
    }

    @Test
    void denseVaeWithBatchNormActivationsAndDropout(@TempDir Path dir) throws IOException {
        ModelSpec spec = Model.encoder(6).dense(9).leakyRelu(0.2f).batchNorm(0.1f, 1e-3f).dense(8).elu(0.7f).dropout(0.3f).dense(7).softplus()
                .gaussianLatent(3).decoder().dense(7).tanh().dense(8).sigmoid().dense(6).relu().dense(6).bernoulli();
        check(OnnxExportTest.random(spec, 1), OnnxExportTest.rows(5, 6, 0, 1), null, dir);
    }

    @Test
    void autoencodersWithEachInputScaling(@TempDir Path dir) throws IOException {
        ModelSpec spec = Model.encoder(5).dense(8).relu().latent(2).tanh().decoder().dense(8).elu(1f).dense(5).gaussian();
        float[][] fit = OnnxExportTest.rows(50, 5, 0, 40);
        for (Scaling s : new Scaling[] {Scaling.standardize(fit), Scaling.minMax(fit), Scaling.log1p(fit)}) {
            check(OnnxExportTest.random(spec, 2).withInputScaling(s), OnnxExportTest.rows(4, 5, 0, 40), null, dir.resolve(s.kind()));
        }
    }

    @Test
    void conditionalVae(@TempDir Path dir) throws IOException {
        ModelSpec spec = Model.encoder(5).conditionedOn(3).dense(6).relu().gaussianLatent(2).decoder().dense(6).relu().dense(5)
                .gaussianLearnedVariance();
        check(OnnxExportTest.random(spec, 3), OnnxExportTest.rows(4, 5, -1, 1), OnnxExportTest.rows(4, 3, 0, 1), dir);
    }

    @Test
    void conditionalConvolutionalVae(@TempDir Path dir) throws IOException {
        // The condition joins the image as 3 constant planes (Reshape, Expand, Concat) and z as 3 values.
        ModelSpec spec = Model.encoder(1, 6, 6).conditionedOn(3).conv2d(2, 3, 2, 1).relu().flatten().gaussianLatent(2)
                .decoder().dense(18).relu().reshape(2, 3, 3).convTranspose2d(1, 4, 2, 1).bernoulli();
        check(OnnxExportTest.random(spec, 7), OnnxExportTest.rows(4, 36, 0, 1), OnnxExportTest.rows(4, 3, 0, 1), dir);
    }

    @Test
    void convolutionalAutoencoderWithAResidualBlockAndATransposedConv(@TempDir Path dir) throws IOException {
        ModelSpec spec = Model.encoder(1, 8, 8).conv2d(4, 3, 2, 1).relu().batchNorm().residualBlock().flatten().dense(6).relu().latent(3)
                .decoder().dense(64).relu().reshape(4, 4, 4).convTranspose2d(3, 4, 2, 1).leakyRelu(0.1f).conv2d(1, 3, 1, 1).bernoulli();
        check(OnnxExportTest.random(spec, 4), OnnxExportTest.rows(3, 64, 0, 1), null, dir);
    }

    @Test
    void vaeWithAClampedLogVariance(@TempDir Path dir) throws IOException {
        ModelSpec clamped = Model.encoder(4).dense(3).relu().gaussianLatent(2).clampLogVariance(-0.05f, 0.05f).decoder().dense(4).bernoulli();
        Autoencoder m = OnnxExportTest.random(clamped, 5);
        float[][] x = OnnxExportTest.rows(7, 4, -3, 3);
        check(m, x, null, dir);
        boolean clippedSome = false;
        for (float[] row : m.encodeLogVariance(x)) {
            for (float v : row) {
                clippedSome |= v == -0.05f || v == 0.05f;
            }
        }
        assertTrue(clippedSome, "the clamp bites on some row (else the Clip is not exercised)");
    }

    @Test
    void convolutionalAutoencoderWithMaxAndAveragePoolingAndAnUpsamplingDecoder(@TempDir Path dir) throws IOException {
        ModelSpec spec = Model.encoder(1, 9, 9).conv2d(3, 3, 1, 1).relu().maxPool(3, 2).conv2d(4, 3, 1, 1).avgPool(2, 1).flatten().dense(5)
                .relu().latent(3).decoder().dense(18).relu().reshape(2, 3, 3).upsample(3).conv2d(1, 3, 1, 1).bernoulli();
        check(OnnxExportTest.random(spec, 6), OnnxExportTest.rows(3, 81, 0, 1), null, dir);
    }

    @Test
    void pcaAndPpca(@TempDir Path dir) throws IOException {
        int n = 60, d = 5;
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) {
            double a = r.nextGaussian(), b = r.nextGaussian();
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) (a * (j + 1) - b * (j % 2) + 0.1 * r.nextGaussian() + j);
            }
        }
        Pca pca = Pca.fit(new Dataset(x, n, d, null, "test"), 2, Parallelism.serial());
        float[][] in = OnnxExportTest.rows(3, d, -2, 6);
        for (LinearModel m : new LinearModel[] {LinearModel.of(pca), LinearModel.of(Ppca.closedForm(pca))}) {
            Path sub = dir.resolve(m.kind());
            OnnxExport.write(m, sub);
            for (int batch : new int[] {1, 3}) {   // PPCA's log-variance is Expanded to the batch of the call
                float[][] xs = java.util.Arrays.copyOf(in, batch);
                Map<String, float[]> enc = OnnxModel.load(sub.resolve("encoder.onnx")).run(batch, Map.of("x", flat(xs)));
                if (m.kind().equals("ppca")) {
                    close(m.encode(xs), enc.get("mu"), "ppca mu");
                    float[][] lv = new float[batch][];
                    java.util.Arrays.fill(lv, m.encodeLogVariance());
                    close(lv, enc.get("logvar"), "ppca logvar");
                } else {
                    close(m.encode(xs), enc.get("code"), "pca code");
                }
                float[][] z = OnnxExportTest.rows(batch, 2, -3, 3);
                close(m.decode(z), OnnxModel.load(sub.resolve("decoder.onnx")).run(batch, Map.of("z", flat(z))).get("reconstruction"),
                        m.kind() + " decode");
                close(m.reconstruct(xs), OnnxModel.load(sub.resolve("reconstruct.onnx")).run(batch, Map.of("x", flat(xs)))
                        .get("reconstruction"), m.kind() + " reconstruct");
            }
        }
    }

    @Test
    void anUnsupportedOperatorIsRefusedNamingTheNodeAndListingTheSupportedOnes() {
        OnnxGraph g = new G().input("x", 2, 3).output("y").node("Transpose", java.util.List.of("x"), java.util.List.of("y")).graph();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxModel.of(g, Parallelism.serial()));
        assertTrue(e.getMessage().matches("node 0 \\(Transpose '[^']*'\\): operator Transpose is not supported \\(latent4j runs .*"), e.getMessage());
        for (String op : new String[] {"Clip", "MaxPool", "AveragePool", "Resize", "Shape", "Expand"}) {
            assertTrue(e.getMessage().contains(op), op + " listed: " + e.getMessage());
        }
    }
}
