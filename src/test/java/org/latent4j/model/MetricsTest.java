package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** MSE, RMSE, MAE and PSNR against closed forms and a plain double loop. */
class MetricsTest {
    @Test
    void closedForms() {
        float[][] x = new float[3][5], y = new float[3][5];
        for (float[] r : y) {
            java.util.Arrays.fill(r, 0.1f);
        }
        assertEquals(0.01, Metrics.mse(x, y), 1e-8);
        assertEquals(0.1, Metrics.rmse(x, y), 1e-7);
        assertEquals(0.1, Metrics.mae(x, y), 1e-7);
        assertEquals(20.0, Metrics.psnr(x, y, 1.0), 1e-5, "an error of a tenth of the peak everywhere is 20 dB");
        assertEquals(20.0 + 20 * Math.log10(255), Metrics.psnr(x, y, 255.0), 1e-5);
    }

    @Test
    void matchADoubleLoop() {
        SplittableRandom r = new SplittableRandom(9);
        float[][] x = new float[7][13], y = new float[7][13];
        double se = 0, ae = 0;
        for (int i = 0; i < 7; i++) {
            for (int j = 0; j < 13; j++) {
                x[i][j] = (float) r.nextGaussian();
                y[i][j] = (float) r.nextGaussian();
                double e = (double) x[i][j] - y[i][j];
                se += e * e;
                ae += Math.abs(e);
            }
        }
        double mse = se / 91;
        assertEquals(mse, Metrics.mse(x, y), 1e-12 * mse);
        assertEquals(Math.sqrt(mse), Metrics.rmse(x, y), 1e-12);
        assertEquals(ae / 91, Metrics.mae(x, y), 1e-12);
        assertEquals(10 * Math.log10(4 * 4 / mse), Metrics.psnr(x, y, 4), 1e-9);
        assertEquals(Metrics.mse(x, y), Metrics.mse(y, x), 0, "symmetric");
    }
}
