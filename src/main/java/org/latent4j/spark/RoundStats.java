package org.latent4j.spark;

/**
 * One round of data-parallel training: its loss and what it cost.
 *
 * <p>The loss is that of the round's local steps, summed over every partition's applied batches:
 * {@code loss = (reconstruction + beta kl + penalty) / rows}, with {@code reconstruction} and
 * {@code kl} the per-row means of those sums. The seconds: {@code seconds} the round's wall time
 * on the driver = {@code broadcastSeconds} (serializing the state and broadcasting it) +
 * {@code jobSeconds} (the Spark job: scheduling, the tasks, sending back their states) +
 * {@code averageSeconds} (the mean of the states on the driver) + {@code checkpointSeconds}
 * (writing the round's checkpoint; 0 without one). Within the job, {@code slowestTaskSeconds}
 * and {@code meanTaskSeconds} are the tasks' own time in their K local steps (graph compile
 * included), so {@code jobSeconds - slowestTaskSeconds} is Spark's overhead of the round
 * (scheduling, deserializing the broadcast, moving {@code resultBytes} of task results).
 */
public record RoundStats(int round, long steps, long rows, double loss, double reconstruction, double kl, double seconds,
                         double broadcastSeconds, double jobSeconds, double slowestTaskSeconds, double meanTaskSeconds,
                         double averageSeconds, double checkpointSeconds, long resultBytes) {
    /** One log line: the round, its loss and the parts of its cost. */
    public String describe(int rounds) {
        return String.format(java.util.Locale.ROOT, "round %d/%d: loss %.4f (reconstruction %.4f, kl %.4f) over %d rows, %d local steps"
                + " | %.3f s = broadcast %.3f + job %.3f (slowest task %.3f, mean %.3f, Spark overhead %.3f, results %.1f MB)"
                + " + average %.3f + checkpoint %.3f", round, rounds, loss, reconstruction, kl, rows, steps, seconds, broadcastSeconds,
                jobSeconds, slowestTaskSeconds, meanTaskSeconds, jobSeconds - slowestTaskSeconds, resultBytes / 1e6, averageSeconds,
                checkpointSeconds);
    }
}
