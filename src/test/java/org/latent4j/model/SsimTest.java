package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.IntBinaryOperator;
import org.junit.jupiter.api.Test;

/** SSIM against scikit-image's numbers, a brute-force double twin and its identities; the compression ratio. */
class SsimTest {
    /** A height x width image of f(x, y) / scale, each pixel rounded to float as the Python reference does. */
    static float[] image(int width, int height, IntBinaryOperator f, double scale) {
        float[] v = new float[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                v[y * width + x] = (float) (f.applyAsInt(x, y) / scale);
            }
        }
        return v;
    }

    /**
     * Reference values from scikit-image 0.19.3 (Debian python3-skimage), made by
     * <pre>
     * import numpy as np
     * from skimage.metrics import structural_similarity as ssim
     * def img(h, w, f, scale):
     *     return np.array([[np.float32(f(x, y) / scale) for x in range(w)] for y in range(h)], dtype=np.float32).astype(np.float64)
     * a1 = img(28, 28, lambda x, y: (x*x + 3*y) % 256, 255.0)
     * b1 = img(28, 28, lambda x, y: (x*x + 3*y + 17*((x*y) % 5)) % 256, 255.0)
     * a2 = img(20, 32, lambda x, y: (7*x + 11*y + x*y) % 251, 1.0)
     * b2 = img(20, 32, lambda x, y: (7*x + 11*y + x*y + 40*(x % 3)) % 251, 1.0)
     * c2 = img(20, 32, lambda x, y: 250 - (7*x + 11*y + x*y) % 251, 1.0)
     * kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
     * print(repr(ssim(a1, b1, data_range=1.0, **kw)))    # 0.45408265937471964
     * print(repr(ssim(a2, b2, data_range=255.0, **kw)))  # 0.23344323893645483
     * print(repr(ssim(a2, c2, data_range=255.0, **kw)))  # -0.8802442942471168
     * </pre>
     * (the 20 x 32 images are 20 rows of 32 pixels: width 32, height 20).
     */
    @Test
    void matchesScikitImage() {
        float[] a1 = image(28, 28, (x, y) -> (x * x + 3 * y) % 256, 255.0);
        float[] b1 = image(28, 28, (x, y) -> (x * x + 3 * y + 17 * ((x * y) % 5)) % 256, 255.0);
        float[] a2 = image(32, 20, (x, y) -> (7 * x + 11 * y + x * y) % 251, 1.0);
        float[] b2 = image(32, 20, (x, y) -> (7 * x + 11 * y + x * y + 40 * (x % 3)) % 251, 1.0);
        float[] c2 = image(32, 20, (x, y) -> 250 - (7 * x + 11 * y + x * y) % 251, 1.0);
        assertEquals(0.45408265937471964, Metrics.ssim(a1, b1, 28, 28, 1.0), 1e-12);
        assertEquals(0.23344323893645483, Metrics.ssim(a2, b2, 32, 20, 255.0), 1e-12);
        assertEquals(-0.8802442942471168, Metrics.ssim(a2, c2, 32, 20, 255.0), 1e-12);
    }

    /**
     * Bundled Fashion-MNIST test images (byte / 255f, as the reader gives them) against
     * scikit-image 0.19.3:
     * <pre>
     * import gzip, numpy as np
     * from skimage.metrics import structural_similarity as ssim
     * raw = gzip.open('src/main/resources/org/latent4j/data/fashion-mnist/t10k-images-idx3-ubyte.gz').read()
     * imgs = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 28, 28)
     * f = lambda k: (imgs[k].astype(np.float32) / np.float32(255)).astype(np.float64)
     * kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
     * print(repr(ssim(f(0), f(1), **kw)), repr(ssim(f(2), f(5), **kw)))   # 0.022878679343249005 0.6403833144514176
     * </pre>
     */
    @Test
    void matchesScikitImageOnFashionMnist() {
        org.latent4j.data.Dataset t = org.latent4j.data.FashionMnist.bundledTest();
        assertEquals(0.022878679343249005, Metrics.ssim(t.row(0), t.row(1), 28, 28, 1.0), 1e-12);
        assertEquals(0.6403833144514176, Metrics.ssim(t.row(2), t.row(5), 28, 28, 1.0), 1e-12);
    }

    /** The definition written out: 2-D weights, and variances as weighted sums of squared deviations. */
    static double bruteForce(float[] a, float[] b, int w, int h, double range) {
        double[][] g = new double[11][11];
        double sum = 0;
        for (int i = 0; i < 11; i++) {
            for (int j = 0; j < 11; j++) {
                g[i][j] = Math.exp(-((i - 5) * (i - 5) + (j - 5) * (j - 5)) / (2 * 1.5 * 1.5));
                sum += g[i][j];
            }
        }
        double c1 = Math.pow(0.01 * range, 2), c2 = Math.pow(0.03 * range, 2), total = 0;
        int count = 0;
        for (int y0 = 0; y0 + 11 <= h; y0++) {
            for (int x0 = 0; x0 + 11 <= w; x0++) {
                double ma = 0, mb = 0;
                for (int i = 0; i < 11; i++) {
                    for (int j = 0; j < 11; j++) {
                        ma += g[i][j] / sum * a[(y0 + i) * w + x0 + j];
                        mb += g[i][j] / sum * b[(y0 + i) * w + x0 + j];
                    }
                }
                double va = 0, vb = 0, cov = 0;
                for (int i = 0; i < 11; i++) {
                    for (int j = 0; j < 11; j++) {
                        double da = a[(y0 + i) * w + x0 + j] - ma, db = b[(y0 + i) * w + x0 + j] - mb;
                        va += g[i][j] / sum * da * da;
                        vb += g[i][j] / sum * db * db;
                        cov += g[i][j] / sum * da * db;
                    }
                }
                total += (2 * ma * mb + c1) * (2 * cov + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
                count++;
            }
        }
        return total / count;
    }

    static float[] noisy(float[] a, double sigma, SplittableRandom r) {
        float[] b = a.clone();
        for (int i = 0; i < b.length; i++) {
            b[i] += (float) (sigma * r.nextGaussian());
        }
        return b;
    }

    @Test
    void agreesWithTheDefinitionWrittenOut() {
        SplittableRandom r = new SplittableRandom(3);
        for (int trial = 0; trial < 10; trial++) {
            int w = 11 + r.nextInt(15), h = 11 + r.nextInt(15);
            float[] a = new float[w * h];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextDouble();
            }
            float[] b = noisy(a, 0.05 + 0.3 * r.nextDouble(), r);
            double range = trial % 2 == 0 ? 1 : 2.5;
            assertEquals(bruteForce(a, b, w, h, range), Metrics.ssim(a, b, w, h, range), 1e-10, w + " x " + h);
        }
    }

    @Test
    void identitiesOneSymmetryAndNoise() {
        SplittableRandom r = new SplittableRandom(4);
        float[] a = image(28, 28, (x, y) -> (x * x + 3 * y) % 256, 255.0);
        assertEquals(1.0, Metrics.ssim(a, a, 28, 28, 1), 1e-12);
        float[] flat = new float[28 * 28];
        java.util.Arrays.fill(flat, 0.3f);
        assertEquals(1.0, Metrics.ssim(flat, flat, 28, 28, 1), 1e-12, "a constant image is like itself");
        float[] b = noisy(a, 0.1, r);
        assertEquals(Metrics.ssim(a, b, 28, 28, 1), Metrics.ssim(b, a, 28, 28, 1), 1e-15);
        double previous = 1;
        for (double sigma : new double[] {0.02, 0.05, 0.1, 0.2, 0.4}) {
            double s = Metrics.ssim(a, noisy(a, sigma, new SplittableRandom(7)), 28, 28, 1);
            assertTrue(s < previous, "more noise, less similar: " + s + " at sigma " + sigma + " after " + previous);
            previous = s;
        }
        float[][] x = {a, a, b}, y = {a, b, a};
        assertEquals((1 + 2 * Metrics.ssim(a, b, 28, 28, 1)) / 3, Metrics.meanSsim(x, y, 28, 28, 1), 1e-12);
    }

    @Test
    void badArgumentsAreNamed() {
        float[] a = new float[28 * 28];
        var e = assertThrows(IllegalArgumentException.class, () -> Metrics.ssim(new float[100], new float[100], 10, 10, 1));
        assertTrue(e.getMessage().contains("10 x 10 image is smaller than the 11 x 11 window"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Metrics.ssim(a, new float[783], 28, 28, 1));
        assertTrue(e.getMessage().contains("second image has 783 pixels, not 28 x 28"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Metrics.ssim(a, a, 28, 28, 0));
        assertTrue(e.getMessage().contains("data range"), e.getMessage());
        float[] nan = a.clone();
        nan[3 * 28 + 5] = Float.NaN;
        e = assertThrows(IllegalArgumentException.class, () -> Metrics.ssim(nan, a, 28, 28, 1));
        assertTrue(e.getMessage().contains("pixel (x 5, y 3) of the first image is NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Metrics.meanSsim(new float[][] {a, a}, new float[][] {a, nan}, 28, 28, 1));
        assertTrue(e.getMessage().startsWith("row 1: "), e.getMessage());
    }

    @Test
    void compressionRatioIsInputFloatsPerLatentFloat() {
        assertEquals(24.5, Metrics.compressionRatio(784, 32));
        assertEquals(1.0, Metrics.compressionRatio(3, 3));
        var e = assertThrows(IllegalArgumentException.class, () -> Metrics.compressionRatio(784, 0));
        assertTrue(e.getMessage().contains("784 and 0"), e.getMessage());
    }
}
