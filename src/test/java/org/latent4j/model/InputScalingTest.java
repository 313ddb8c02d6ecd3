package org.latent4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.train.Trainer;

/** A model's own input scaling: log1p's arithmetic, the inverse, the model file, and detectors made from such a model. */
class InputScalingTest {
    @Test
    void log1pAndInvertAgainstTheArithmetic() {
        float[][] counts = {{0, 10, 3}, {4, 0, 100}, {9, 2, 7}};
        Scaling s = Scaling.log1p(counts);
        assertEquals("log1p", s.kind());
        for (int j = 0; j < 3; j++) {
            double mean = 0, m2 = 0;
            for (float[] r : counts) {
                mean += Math.log1p(r[j]) / 3;
            }
            for (float[] r : counts) {
                m2 += (Math.log1p(r[j]) - mean) * (Math.log1p(r[j]) - mean) / 3;
            }
            assertEquals(mean, s.offset()[j], 1e-6);
            assertEquals(Math.sqrt(m2), s.scale()[j], 1e-6);
            float[][] y = s.apply(counts);
            for (int i = 0; i < 3; i++) {
                assertEquals((Math.log1p(counts[i][j]) - mean) / Math.sqrt(m2), y[i][j], 1e-5);
            }
        }
        float[][] back = s.invert(s.apply(counts));
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(counts[i], back[i], 1e-3f);
        }
        float[][] x = {{1, 5000}, {3, 7000}, {2, 5500}};
        for (Scaling t : new Scaling[] {Scaling.standardize(x), Scaling.minMax(x)}) {
            float[][] b = t.invert(t.apply(x));
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(x[i], b[i], 1e-3f);
            }
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Scaling.log1p(new float[][] {{1}, {-1}})).getMessage()
                .contains("row 1, feature 0 is -1.0; log(1 + x) needs values above -1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.apply(new float[][] {{0, -2, 0}})).getMessage()
                .contains("feature 1 is -2.0"));
    }

    @Test
    void savedWithTheModelAndFoldedIntoDetectors(@TempDir Path dir) throws Exception {
        ModelSpec spec = Model.encoder(2).dense(4).relu().gaussianLatent(1).decoder().dense(4).relu().dense(2).gaussian();
        Autoencoder plain = Autoencoder.of(spec, Trainer.initialParams(Graph.build(spec).fuse(), 3));
        float[][] x = {{1, 5000}, {3, 7000}, {2, 5500}, {2.5f, 6400}};
        Scaling s = Scaling.standardize(x);
        Autoencoder scaled = plain.withInputScaling(s);
        Path f = dir.resolve("m.safetensors");
        scaled.save(f);
        Autoencoder loaded = (Autoencoder) Models.load(f);
        assertTrue(loaded.inputScaling().sameAs(s), "kept in the file: " + loaded.inputScaling());
        assertArrayEquals(scaled.reconstruct(x)[2], loaded.reconstruct(x)[2]);
        // The plain model's file has no scaling keys.
        plain.save(dir.resolve("p.safetensors"));
        assertTrue(((Autoencoder) Models.load(dir.resolve("p.safetensors"))).inputScaling().isNone());
        // A detector on the scaled model scores as one on the plain model with the scaling of its own.
        for (AnomalyDetector.Score kind : new AnomalyDetector.Score[] {AnomalyDetector.Score.MSE, AnomalyDetector.Score.NEG_ELBO}) {
            AnomalyDetector a = AnomalyDetector.of(loaded, kind, 3, 7), b = AnomalyDetector.of(plain, kind, 3, 7).withScaling(s);
            assertArrayEquals(b.score(x), a.score(x), 1e-9);
            Path d = dir.resolve("d-" + kind + ".safetensors");
            a.withThreshold(1).save(d);
            AnomalyDetector again = AnomalyDetector.load(d);
            assertArrayEquals(a.score(x), again.score(x), 1e-9);
            assertTrue(((Autoencoder) again.model()).inputScaling().sameAs(s), "the detector file still scales encode/reconstruct");
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AnomalyDetector.of(loaded, AnomalyDetector.Score.MSE, 1, 1)
                .withScaling(Scaling.minMax(x))).getMessage().contains("already scales its inputs"));
        // score() of a scaled model: squared error in the scaled units, against the arithmetic
        float[][] r = scaled.reconstruct(x), sx = s.apply(x), sr = s.apply(r);
        double want = 0;
        for (int j = 0; j < 2; j++) {
            want += (sx[1][j] - sr[1][j]) * (double) (sx[1][j] - sr[1][j]);
        }
        assertEquals(want, scaled.score(x)[1], 1e-6 * want);
        assertThrows(IllegalArgumentException.class, () -> plain.withInputScaling(Scaling.standardize(new float[][] {{1, 2, 3}, {2, 3, 5}})));
    }
}
