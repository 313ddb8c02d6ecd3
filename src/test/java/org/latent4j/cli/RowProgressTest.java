package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.Autoencoder;
import org.latent4j.train.Trainer;

/** score and calibrate work block by block for their progress lines: the same scores as one call, lines only for long work. */
class RowProgressTest {
    @Test
    void blockWiseScoresEqualOneCallAndLongWorkReportsItsProgress() {
        ModelSpec spec = Model.encoder(784).dense(16).relu().gaussianLatent(3).decoder().dense(16).relu().dense(784).bernoulli();
        Autoencoder m = Autoencoder.of(spec, Trainer.initialParams(Graph.build(spec).fuse(), 1));
        var train = FashionMnist.bundledTrain();
        float[][] x = new float[2500][];
        for (int i = 0; i < x.length; i++) {
            x[i] = train.row(i);
        }
        // The sampled score (5 z samples a row): its noise must not depend on where a block starts.
        AnomalyDetector d = AnomalyDetector.of(m, AnomalyDetector.Score.NEG_ELBO, 5, 7);
        double[] whole = d.score(x);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        double[] blocks = RowProgress.scoreRows("scoring", x, d::score, new PrintStream(bytes, true, StandardCharsets.UTF_8), 0);
        assertArrayEquals(whole, blocks);
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(3, lines.length, String.join("\n", lines));   // after 1024, 2048 and 2500 rows
        assertTrue(lines[0].startsWith("scoring: 40 % (1,024 of 2,500 rows), "), lines[0]);
        assertTrue(lines[2].startsWith("scoring: 100 % (2,500 of 2,500 rows), "), lines[2]);

        ByteArrayOutputStream quiet = new ByteArrayOutputStream();
        RowProgress.scoreRows("scoring", x, m::score, new PrintStream(quiet, true, StandardCharsets.UTF_8), Long.MAX_VALUE);
        assertEquals("", quiet.toString(StandardCharsets.UTF_8), "short work prints nothing");
    }
}
