package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.latent4j.data.Dataset;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Parallelism;
import org.latent4j.linear.Pca;
import org.latent4j.model.Autoencoder;

/** latent4j starts no non-daemon thread, stops the pools it starts, and runs on an application's own pool. */
class ThreadsAndPoolsTest {
    static final Dataset DATA = TrainerTest.TRAIN.head(256);

    @Test
    void noNonDaemonThreadsAndNoWorkerLeftAfterTrainingAndInference() throws Exception {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(64).withThreads(3);
        Autoencoder m = Trainer.fit(TrainerTest.smallVae(), DATA, null, cfg, TrainingListener.NONE).model();
        m.reconstruct(new float[][] {DATA.row(0)});
        try (Parallelism p = Parallelism.of(2)) {
            Pca.fit(DATA, 4, p);
        }
        Thread warm = new Thread(Gemm::warmUp);
        warm.start();
        warm.join();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream().filter(t -> !before.contains(t) && t.isAlive())
                    .filter(t -> !t.isDaemon() || t.getName().startsWith("latent4j-worker"))
                    .map(t -> t.getName() + (t.isDaemon() ? " (daemon)" : " (non-daemon)")).toList();
            if (!left.isEmpty()) {
                Thread.sleep(50);
            }
        } while (!left.isEmpty() && System.nanoTime() < deadline);
        assertEquals(List.of(), left, "threads latent4j left behind");
    }

    @Test
    void anApplicationsPoolGivesTheSameWeightsAndIsLeftRunning() throws Exception {
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(1).withBatchSize(64);
        float[] own = Trainer.fit(TrainerTest.smallVae(), DATA, null, cfg, TrainingListener.NONE).model().parameters();
        ForkJoinPool app = new ForkJoinPool(2);
        try {
            float[] onApp = Trainer.fit(TrainerTest.smallVae(), DATA, null, cfg, TrainingListener.NONE, null, app).model().parameters();
            assertArrayEquals(own, onApp);
            assertFalse(app.isShutdown(), "latent4j never shuts an application's pool down");
            assertEquals(42, app.submit(() -> 42).get().intValue());
        } finally {
            app.shutdown();
        }
    }
}
