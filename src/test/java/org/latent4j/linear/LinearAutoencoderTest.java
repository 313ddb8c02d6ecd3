package org.latent4j.linear;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.ParamSpec;
import org.latent4j.kernel.Parallelism;
import org.latent4j.model.Autoencoder;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.Trainer;
import org.latent4j.train.TrainingConfig;
import org.latent4j.train.TrainingListener;

/**
 * Baldi and Hornik: a linear autoencoder trained on squared error reaches the projection onto
 * the top-q principal subspace. Checked on data with a known spectrum (PcaPpcaTest.synthetic).
 */
class LinearAutoencoderTest {
    @Test
    void principalAnglesOfKnownSubspaces() {
        double[][] a = {{1, 0}, {0, 1}, {0, 0}};
        double[][] b = {{1, 0}, {0, Math.cos(0.3)}, {0, Math.sin(0.3)}};
        double[] t = Subspaces.principalAngles(a, b);
        assertEquals(0.0, t[0], 1e-12);
        assertEquals(0.3, t[1], 1e-12);
        double[][] c = {{2, 1}, {1, 3}, {0, 0}};   // same span as a, other basis
        assertEquals(0.0, Subspaces.largestAngle(a, c), 1e-7);
    }

    @Test
    void aTrainedLinearAutoencoderSpansThePcaSubspace() {
        PcaPpcaTest.Synthetic s = PcaPpcaTest.synthetic(600, 6);
        int q = 4, d = PcaPpcaTest.D;
        ModelSpec linear = Model.encoder(d).latent(q).decoder().dense(d).gaussian();
        TrainingConfig cfg = TrainingConfig.defaults().withBatchSize(600).withEpochs(4000)
                .withOptimizer(OptimizerSpec.adam(2e-2f));
        Autoencoder ae = Trainer.fit(linear, s.data(), null, cfg, TrainingListener.NONE).model();
        Pca pca = Pca.fit(s.data(), q, Parallelism.serial());
        // Decoder weight: (out = D, in = q): its columns span the decoder's image.
        ParamSpec w = ae.graph().param("decoder.0.weight");
        double[][] dec = new double[d][q];
        double[][] pc = new double[d][q];
        for (int i = 0; i < d; i++) {
            for (int k = 0; k < q; k++) {
                dec[i][k] = ae.parameters()[w.offset() + i * q + k];
                pc[i][k] = pca.component(k)[i];
            }
        }
        double angle = Subspaces.largestAngle(dec, pc);
        System.out.println("linear AE: largest principal angle " + angle + " rad");
        assertTrue(angle < 0.02, "largest principal angle " + angle + " rad");
        float[][] rows = new float[s.data().rows()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = s.data().row(i);
        }
        float[][] rec = ae.reconstruct(rows);
        double loss = 0;
        for (int i = 0; i < rows.length; i++) {
            for (int c = 0; c < d; c++) {
                double e = rows[i][c] - rec[i][c];
                loss += e * e;
            }
        }
        loss /= rows.length;
        double optimum = pca.discardedMeanVariance() * (d - q);
        System.out.println("linear AE: loss " + loss + ", PCA optimum " + optimum);
        assertTrue(loss <= optimum * 1.01 && loss >= optimum * 0.999, "loss " + loss + " vs PCA optimum " + optimum);
    }
}
