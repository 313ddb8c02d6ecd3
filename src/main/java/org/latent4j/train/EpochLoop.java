package org.latent4j.train;

import java.io.IOException;

/**
 * The one training loop of the trainers, whatever the {@link TrainingProcedure}: epochs from a
 * {@link Checkpoint.Progress} to {@code cfg.epochs()}, each epoch's order of rows from (seed,
 * epoch), batches of {@code batch} rows from the position where the progress stands, the
 * step counter, the epoch's running sums (kept in the progress, so a run resumed mid-epoch
 * reports the same means as an unbroken one), checkpoints every so many steps inside an epoch,
 * a stop before a given step (the local steps of {@link Trainer#steps}) and the epoch's wall
 * time. What a step does is the procedure's: {@link Trainer}'s back-propagation through the
 * graph, {@link HelmholtzTrainer}'s wake-sleep and reweighted wake-sleep. A subclass supplies
 * the batch ({@link #batch}), the epoch's end ({@link #endEpoch}) and how a checkpoint is saved.
 * The loop itself allocates nothing per step.
 */
abstract class EpochLoop {
    final TrainingConfig cfg;
    final int[] order;
    /** Rows per batch (the config's batch size, at most the data's rows). */
    final int batch;
    final CheckpointPolicy checkpoints;

    /** The epoch's sums over its applied batches: the loss (or -bound), KL and penalty terms, rows, skipped batches. */
    double recon, kl, penalty;
    long counted;
    int skipped;

    /** Set by a subclass to end the run after the current epoch (early stopping). */
    boolean stopped;
    /** The step before which the run stops ({@link Trainer#steps}), and where it stopped. */
    long stopAtStep = Long.MAX_VALUE;
    Checkpoint.Progress stoppedAt;

    EpochLoop(TrainingConfig cfg, int rows, CheckpointPolicy checkpoints) {
        this.cfg = cfg;
        this.order = new int[rows];
        this.batch = Math.min(cfg.batchSize(), rows);
        this.checkpoints = checkpoints;
    }

    /** Applies (or skips) the batch of rows order[start .. start + n) as step {@code step}, adding to the epoch's sums. */
    abstract void batch(int epoch, int start, int n, long step) throws IOException;

    /** At an epoch's start, after its shuffle. */
    void beginEpoch(int epoch) {}

    /** After each batch: progress for a listener ({@code done} rows of the epoch). */
    void afterBatch(int epoch, int done) {}

    /**
     * The epoch's end: measurements, history, checkpoint ({@code next} is the progress at the
     * start of the next epoch), listener; {@code seconds} the epoch's training time.
     */
    abstract void endEpoch(int epoch, double seconds, Checkpoint.Progress next) throws IOException;

    /** Saves a checkpoint at the given progress (mid-epoch, every {@code checkpoints.everySteps()} steps). */
    abstract void save(Checkpoint.Progress p) throws IOException;

    /** The epoch's progress at row {@code position} after {@code step} steps. */
    private Checkpoint.Progress progress(int epoch, int position, long step, double seconds) {
        return new Checkpoint.Progress(epoch, position, step, recon, kl, counted, skipped, seconds, penalty);
    }

    final void run(Checkpoint.Progress from) throws IOException {
        long step = from.step();
        for (int epoch = from.epoch(); epoch <= cfg.epochs() && !stopped; epoch++) {
            Trainer.shuffle(order, cfg.shuffle() ? cfg.seed() : 0, epoch, cfg.shuffle());
            boolean continuing = epoch == from.epoch();
            long t0 = System.nanoTime();
            double secondsBefore = continuing ? from.seconds() : 0;
            recon = continuing ? from.reconSum() : 0;
            kl = continuing ? from.klSum() : 0;
            penalty = continuing ? from.penaltySum() : 0;
            counted = continuing ? from.rowsCounted() : 0;
            skipped = continuing ? from.skipped() : 0;
            int startRow = continuing ? from.position() : 0;
            beginEpoch(epoch);
            for (int start = startRow; start < order.length; start += batch) {
                if (step >= stopAtStep) {
                    stoppedAt = progress(epoch, start, step, secondsBefore + (System.nanoTime() - t0) / 1e9);
                    return;
                }
                int n = Math.min(batch, order.length - start);
                batch(epoch, start, n, step);
                step++;
                int done = start + n;
                if (checkpoints != null && checkpoints.everySteps() > 0 && step % checkpoints.everySteps() == 0 && done < order.length) {
                    save(progress(epoch, done, step, secondsBefore + (System.nanoTime() - t0) / 1e9));
                }
                afterBatch(epoch, done);
            }
            endEpoch(epoch, secondsBefore + (System.nanoTime() - t0) / 1e9, new Checkpoint.Progress(epoch + 1, 0, step, 0, 0, 0, 0, 0, 0));
        }
        stoppedAt = new Checkpoint.Progress(cfg.epochs() + 1, 0, step, 0, 0, 0, 0, 0, 0);
    }

    /** Whether the epoch's end saves a checkpoint: every {@code everyEpochs}, the last epoch, and a stopped run's. */
    final boolean savesAtEnd(int epoch) {
        return checkpoints != null && (epoch % checkpoints.everyEpochs() == 0 || epoch == cfg.epochs() || stopped);
    }
}
