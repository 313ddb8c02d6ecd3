package org.latent4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.Models;

/**
 * Kills a training process (SIGKILL, a separate JVM) at random moments, again and again, and
 * restarts it each time; it resumes from its checkpoint. Every file on disk must always load, and
 * the final weights must be bitwise those of a run that was never killed. The number of kills is
 * {@code -Dlatent4j.kills=N} (default 5; RELIABILITY.md cites a longer run).
 */
class KillTest {
    static final int EPOCHS = 6;

    static Dataset data() {
        return TrainerTest.TRAIN.head(600);
    }

    static TrainingConfig config(int threads) {
        return TrainingConfig.defaults().withEpochs(EPOCHS).withBatchSize(32).withThreads(threads);
    }

    /** The child: train (or resume) with a checkpoint every 2 steps, then save the model. */
    public static void main(String[] args) throws IOException {
        Path ck = Path.of(args[0]), result = Path.of(args[1]);
        int threads = Integer.parseInt(args[2]);
        CheckpointPolicy policy = new CheckpointPolicy(ck, 1, 2);
        Trainer.Result r = Files.exists(ck)
                ? Trainer.resume(ck, data(), null, config(threads), TrainingListener.NONE, policy)
                : Trainer.fit(TrainerTest.smallVae(), data(), null, config(threads), TrainingListener.NONE, policy);
        r.model().save(result);
        System.out.println("done");
    }

    @Test
    void killedAtRandomAndResumedGivesTheUninterruptedWeights(@TempDir Path dir) throws Exception {
        int kills = Integer.getInteger("latent4j.kills", 5);
        float[] expected = Trainer.fit(TrainerTest.smallVae(), data(), null, config(1), TrainingListener.NONE).model().parameters();
        Path ck = dir.resolve("run.ckpt.safetensors"), result = dir.resolve("model.safetensors"), log = dir.resolve("child.log");
        SplittableRandom rnd = new SplittableRandom(Long.getLong("latent4j.kills.seed", System.nanoTime()));
        int killed = 0, starts = 0, resumes = 0, loadsChecked = 0, completed = 0;
        List<String> timeline = new ArrayList<>();
        // Until `kills` kills have landed: start (or resume) the child, kill it after a random delay
        // unless it finishes first; a finished run must hold the uninterrupted weights, and then
        // a new run starts from scratch.
        while (true) {
            boolean resuming = Files.exists(ck);
            resumes += resuming ? 1 : 0;
            starts++;
            String threads = Integer.toString(1 + starts % 3);   // 2, 3, 1, 2, ...: resuming on other thread counts
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                    KillTest.class.getName(), ck.toString(), result.toString(), threads)
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            // A child spends 1-4 s in JVM start and JIT warm-up before its first checkpoint and 3-6 s in all.
            long delayMs = killed < kills ? 300 + rnd.nextLong(4500) : 600_000;
            if (p.waitFor(delayMs, TimeUnit.MILLISECONDS)) {
                assertEquals(0, p.exitValue(), () -> "the child failed: " + read(log));
                float[] got = Autoencoder.load(result).parameters();
                final int k = killed, rs = resumes;
                final List<String> tl = List.copyOf(timeline);
                assertArrayEquals(expected, got, () -> "weights after " + k + " kills and " + rs + " resumes: " + tl);
                completed++;
                timeline.add("finished");
                if (killed >= kills) {
                    break;
                }
                Files.delete(ck);
                Files.delete(result);
                continue;
            }
            p.destroyForcibly();   // SIGKILL on Linux
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            killed++;
            timeline.add("killed after " + delayMs + " ms" + (Files.exists(ck) ? " at step " + Checkpoint.read(ck).progress().step() : ""));
            for (Path f : new Path[] {ck, result}) {
                if (Files.exists(f)) {
                    assertTrue(Models.load(f) instanceof Autoencoder, f + " on disk always loads as a model");
                    loadsChecked++;
                }
            }
        }
        System.out.println("KillTest: " + killed + " kills, " + resumes + " resumes, " + completed + " completed runs, "
                + loadsChecked + " files on disk loaded after a kill; every completed run bitwise equal to the uninterrupted one; "
                + timeline);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
