package org.latent4j.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.latent4j.io.SafeTensors;
import org.latent4j.kernel.Philox;
import org.latent4j.linear.Pca;
import org.latent4j.linear.Ppca;
import org.latent4j.linear.Spd;

/**
 * PCA or probabilistic PCA as a model to use beside the autoencoders: a linear encoder
 * z = E (x - mu) and decoder x = mu + W z. PCA: E = U_q^T, W = U_q. PPCA: the posterior mean
 * E = M^-1 W^T with M = W^T W + sigma^2 I, and the loadings W.
 *
 * <p>The parameters are float32, as the file stores them, and every product is summed in
 * double: a loaded model gives bitwise the outputs of the one saved. The file holds the tensors
 * of two PyTorch {@code nn.Linear} layers ({@code encoder.weight} (q, D), {@code encoder.bias}
 * = -E mu, {@code decoder.weight} (D, q), {@code decoder.bias} = mu) and {@code prior_std} (q);
 * the metadata holds the kind and, for PPCA, the noise variance.
 */
public final class LinearModel implements LatentModel {
    /** Metadata key of the kind ("pca" or "ppca") in the safetensors file. */
    public static final String KIND_KEY = "latent4j.kind";
    private static final String NOISE_KEY = "latent4j.noise_variance";
    private static final String VARIANCE_KEY = "latent4j.explained_variance";

    private final String kind;
    private final float[] mean;        // D
    private final float[] encoder;     // q x D
    private final float[] decoder;     // D x q
    private final float[] priorStd;    // q
    private final double noiseVariance;
    private final double[] explainedVariance;
    private final int d;
    private final int q;
    // PPCA only, from the float loadings: M^-1 and log det of the covariance W W^T + sigma^2 I.
    private final double[][] mInverse;
    private final double logDetCovariance;

    private LinearModel(String kind, float[] mean, float[] encoder, float[] decoder, float[] priorStd,
                        double noiseVariance, double[] explainedVariance) {
        this.kind = kind;
        this.mean = mean;
        this.encoder = encoder;
        this.decoder = decoder;
        this.priorStd = priorStd;
        this.noiseVariance = noiseVariance;
        this.explainedVariance = explainedVariance;
        this.d = mean.length;
        this.q = priorStd.length;
        if (kind.equals("ppca")) {
            double[][] m = mMatrix(decoder, d, q, noiseVariance);
            double logDet;
            try {
                this.mInverse = Spd.inverse(m);
                logDet = Spd.logDet(m);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("PPCA: W^T W + sigma^2 I is not positive definite (noise variance " + noiseVariance + ")", e);
            }
            this.logDetCovariance = (d - q) * Math.log(noiseVariance) + logDet;
        } else {
            this.mInverse = null;
            this.logDetCovariance = Double.NaN;
        }
    }

    /** PCA with its q components: codes are the coordinates along them (not whitened). */
    public static LinearModel of(Pca pca) {
        int d = pca.features(), q = pca.components();
        float[] enc = new float[q * d], dec = new float[d * q], std = new float[q];
        double[] var = pca.explainedVariance();
        for (int k = 0; k < q; k++) {
            double[] u = pca.component(k);
            for (int i = 0; i < d; i++) {
                enc[k * d + i] = (float) u[i];
                dec[i * q + k] = (float) u[i];
            }
            std[k] = (float) Math.sqrt(var[k]);
        }
        return new LinearModel("pca", pca.mean(), enc, dec, std, 0.0, var);
    }

    /** PPCA: codes are posterior means; sampling adds the noise. */
    public static LinearModel of(Ppca ppca) {
        int d = ppca.features(), q = ppca.components();
        double[][] w = ppca.loadings();
        double[] mu = ppca.mean();
        float[] mean = new float[d], dec = new float[d * q], std = new float[q];
        for (int i = 0; i < d; i++) {
            mean[i] = (float) mu[i];
            for (int k = 0; k < q; k++) {
                dec[i * q + k] = (float) w[i][k];
            }
        }
        java.util.Arrays.fill(std, 1f);
        double s2 = ppca.noiseVariance();
        // E = M^-1 W^T from the float loadings (so that a loaded file computes the same E).
        double[][] mInverse = Spd.inverse(mMatrix(dec, d, q, s2));
        float[] enc = new float[q * d];
        for (int k = 0; k < q; k++) {
            for (int i = 0; i < d; i++) {
                double s = 0;
                for (int j = 0; j < q; j++) {
                    s += mInverse[k][j] * dec[i * q + j];
                }
                enc[k * d + i] = (float) s;
            }
        }
        return new LinearModel("ppca", mean, enc, dec, std, s2, null);
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public int inputDim() {
        return d;
    }

    @Override
    public int latentDim() {
        return q;
    }

    /** The mean mu (D values) the encoder subtracts and the decoder adds back (a copy). */
    public float[] mean() {
        return mean.clone();
    }

    /** The encoder matrix E, q x D row-major (z = E (x - mu)) (a copy). */
    public float[] encoderMatrix() {
        return encoder.clone();
    }

    /** The decoder matrix W, D x q row-major (x = mu + W z) (a copy). */
    public float[] decoderMatrix() {
        return decoder.clone();
    }

    /** PPCA's noise variance sigma^2 (0 for PCA). */
    public double noiseVariance() {
        return noiseVariance;
    }

    @Override
    public float[][] encode(float[][] x) {
        Autoencoder.checkRows(x, d, "input");
        float[][] z = new float[x.length][q];
        double[] c = new double[d];
        for (int r = 0; r < x.length; r++) {
            for (int i = 0; i < d; i++) {
                c[i] = (double) x[r][i] - mean[i];
            }
            for (int k = 0; k < q; k++) {
                double s = 0;
                for (int i = 0; i < d; i++) {
                    s += encoder[k * d + i] * c[i];
                }
                z[r][k] = (float) s;
            }
        }
        return z;
    }

    /** PPCA: log of the posterior variance of each code (the same for every row: sigma^2 diag(M^-1)). */
    public float[] encodeLogVariance() {
        if (mInverse == null) {
            throw new IllegalStateException("PCA has no posterior variance; PPCA has");
        }
        float[] lv = new float[q];
        for (int k = 0; k < q; k++) {
            lv[k] = (float) Math.log(noiseVariance * mInverse[k][k]);
        }
        return lv;
    }

    @Override
    public float[][] decode(float[][] z) {
        Autoencoder.checkRows(z, q, "latent code");
        float[][] x = new float[z.length][d];
        for (int r = 0; r < z.length; r++) {
            for (int i = 0; i < d; i++) {
                double s = mean[i];
                for (int k = 0; k < q; k++) {
                    s += decoder[i * q + k] * (double) z[r][k];
                }
                x[r][i] = (float) s;
            }
        }
        return x;
    }

    @Override
    public float[][] reconstruct(float[][] x) {
        return decode(encode(x));
    }

    @Override
    public float[][] sample(int n, long seed) {
        if (n <= 0) {
            throw new IllegalArgumentException("sample count must be positive, got " + n);
        }
        float[] e = new float[n * q];
        Philox.fillNormal(e, 0, e.length, seed, 1, 0);
        float[][] z = new float[n][q];
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < q; k++) {
                z[r][k] = priorStd[k] * e[r * q + k];
            }
        }
        float[][] x = decode(z);
        if (noiseVariance > 0) {
            float[] noise = new float[n * d];
            Philox.fillNormal(noise, 0, noise.length, seed, 2, 0);
            double sd = Math.sqrt(noiseVariance);
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < d; i++) {
                    x[r][i] = (float) (x[r][i] + sd * noise[r * d + i]);
                }
            }
        }
        return x;
    }

    /** PPCA: -log p(x) of each row under N(mu, W W^T + sigma^2 I), in nats. */
    public double[] negativeLogLikelihood(float[][] x) {
        if (mInverse == null) {
            throw new IllegalStateException("PCA has no likelihood; PPCA has");
        }
        Autoencoder.checkRows(x, d, "input");
        double[] out = new double[x.length];
        double[] a = new double[q];
        for (int r = 0; r < x.length; r++) {
            java.util.Arrays.fill(a, 0);
            double sq = 0;
            for (int i = 0; i < d; i++) {
                double v = (double) x[r][i] - mean[i];
                sq += v * v;
                for (int k = 0; k < q; k++) {
                    a[k] += decoder[i * q + k] * v;
                }
            }
            double quad = 0;
            for (int i = 0; i < q; i++) {
                for (int j = 0; j < q; j++) {
                    quad += a[i] * mInverse[i][j] * a[j];
                }
            }
            out[r] = 0.5 * (d * Math.log(2 * Math.PI) + logDetCovariance + (sq - quad) / noiseVariance);
        }
        return out;
    }

    @Override
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(kind.equals("pca") ? "PCA" : "Probabilistic PCA").append(": ").append(d).append(" features -> ")
                .append(q).append(" components\n");
        if (explainedVariance != null) {
            double kept = 0;
            for (double v : explainedVariance) {
                kept += v;
            }
            sb.append(String.format(Locale.ROOT, "variance along the components: %.6g (largest %.6g)%n", kept, explainedVariance[0]));
        }
        if (kind.equals("ppca")) {
            sb.append(String.format(Locale.ROOT, "noise variance: %.6g%n", noiseVariance));
        }
        sb.append("parameters: ").append(2L * d * q + d + q).append(" floats\n");
        return sb.toString();
    }

    @Override
    public void save(Path file, Map<String, String> extraMetadata) throws IOException {
        float[] encBias = new float[q];
        for (int k = 0; k < q; k++) {
            double s = 0;
            for (int i = 0; i < d; i++) {
                s -= encoder[k * d + i] * (double) mean[i];
            }
            encBias[k] = (float) s;
        }
        List<SafeTensors.Entry> t = new ArrayList<>();
        t.add(new SafeTensors.Entry("encoder.weight", new int[] {q, d}, encoder, 0));
        t.add(new SafeTensors.Entry("encoder.bias", new int[] {q}, encBias, 0));
        t.add(new SafeTensors.Entry("decoder.weight", new int[] {d, q}, decoder, 0));
        t.add(new SafeTensors.Entry("decoder.bias", new int[] {d}, mean, 0));
        t.add(new SafeTensors.Entry("prior_std", new int[] {q}, priorStd, 0));
        Map<String, String> md = new LinkedHashMap<>();
        md.put(KIND_KEY, kind);
        md.put("format", "pt");
        if (kind.equals("ppca")) {
            md.put(NOISE_KEY, Double.toString(noiseVariance));
        }
        if (explainedVariance != null) {
            StringBuilder sb = new StringBuilder("[");
            for (int k = 0; k < explainedVariance.length; k++) {
                sb.append(k == 0 ? "" : ",").append(explainedVariance[k]);
            }
            md.put(VARIANCE_KEY, sb.append(']').toString());
        }
        SafeTensors.write(file, Models.withExtra(md, extraMetadata), t);
    }

    /** Loads a PCA or PPCA file written by {@link #save}; shapes and values are checked. */
    public static LinearModel load(Path file) throws IOException {
        return from(SafeTensors.read(file), file);
    }

    static LinearModel from(SafeTensors.Contents c, Path file) throws IOException {
        String kind = c.metadata().get(KIND_KEY);
        if (!"pca".equals(kind) && !"ppca".equals(kind)) {
            throw new IOException(file + ": metadata " + KIND_KEY + " is " + (kind == null ? "missing" : "'" + kind + "'")
                    + "; a linear model file says pca or ppca");
        }
        SafeTensors.Entry enc = tensor(c, "encoder.weight", 2, file), dec = tensor(c, "decoder.weight", 2, file);
        SafeTensors.Entry mean = tensor(c, "decoder.bias", 1, file), std = tensor(c, "prior_std", 1, file);
        tensor(c, "encoder.bias", 1, file);
        int q = enc.shape()[0], d = enc.shape()[1];
        if (q < 1 || d < 1 || !java.util.Arrays.equals(dec.shape(), new int[] {d, q}) || mean.shape()[0] != d
                || std.shape()[0] != q || c.tensors().get("encoder.bias").shape()[0] != q) {
            throw new IOException(file + ": tensor shapes do not fit one model: encoder.weight " + java.util.Arrays.toString(enc.shape())
                    + ", decoder.weight " + java.util.Arrays.toString(dec.shape()) + ", decoder.bias " + java.util.Arrays.toString(mean.shape())
                    + ", prior_std " + java.util.Arrays.toString(std.shape()) + " (need (q, D), (D, q), (D), (q))");
        }
        if (c.tensors().size() != 5) {
            throw new IOException(file + ": a " + kind + " file has 5 tensors, this one has " + c.tensors().size() + " " + c.tensors().keySet());
        }
        for (SafeTensors.Entry e : c.tensors().values()) {
            for (int i = 0; i < e.count(); i++) {
                if (!Float.isFinite(e.data()[e.offset() + i])) {
                    throw new IOException(file + ": tensor " + e.name() + " holds " + e.data()[e.offset() + i] + " at index " + i);
                }
            }
        }
        double noise = 0;
        if (kind.equals("ppca")) {
            String s = c.metadata().get(NOISE_KEY);
            try {
                noise = Double.parseDouble(s == null ? "" : s);
            } catch (NumberFormatException e) {
                noise = Double.NaN;
            }
            if (!(noise > 0) || Double.isInfinite(noise)) {
                throw new IOException(file + ": metadata " + NOISE_KEY + " must be a positive number, got " + (s == null ? "nothing" : "'" + s + "'"));
            }
        }
        double[] var = null;
        String vs = c.metadata().get(VARIANCE_KEY);
        if (vs != null) {
            try {
                Object parsed = org.latent4j.dsl.Json.parse(vs);
                if (parsed instanceof List<?> l && l.size() == q && l.stream().allMatch(v -> v instanceof Double)) {
                    var = l.stream().mapToDouble(v -> (Double) v).toArray();
                }
            } catch (IllegalArgumentException e) {
                var = null;
            }
            if (var == null) {
                throw new IOException(file + ": metadata " + VARIANCE_KEY + " must be a list of " + q + " numbers");
            }
        }
        return new LinearModel(kind, copy(mean), copy(enc), copy(dec), copy(std), noise, var);
    }

    /** M = W^T W + sigma^2 I (q x q) from the float loadings W (D x q), in double. */
    private static double[][] mMatrix(float[] w, int d, int q, double noiseVariance) {
        double[][] m = new double[q][q];
        for (int i = 0; i < d; i++) {
            for (int a = 0; a < q; a++) {
                for (int b = 0; b < q; b++) {
                    m[a][b] += (double) w[i * q + a] * w[i * q + b];
                }
            }
        }
        for (int a = 0; a < q; a++) {
            m[a][a] += noiseVariance;
        }
        return m;
    }

    private static SafeTensors.Entry tensor(SafeTensors.Contents c, String name, int rank, Path file) throws IOException {
        SafeTensors.Entry e = c.tensors().get(name);
        if (e == null) {
            throw new IOException(file + ": tensor " + name + " is missing");
        }
        if (e.shape().length != rank) {
            throw new IOException(file + ": tensor " + name + " has shape " + java.util.Arrays.toString(e.shape()) + ", not " + rank + "-D");
        }
        return e;
    }

    private static float[] copy(SafeTensors.Entry e) {
        return java.util.Arrays.copyOfRange(e.data(), e.offset(), e.offset() + (int) e.count());
    }
}
