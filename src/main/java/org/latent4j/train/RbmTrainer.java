package org.latent4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.latent4j.data.Dataset;
import org.latent4j.kernel.Bernoulli;
import org.latent4j.kernel.Gemm;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Philox;
import org.latent4j.kernel.Reductions;
import org.latent4j.model.Rbm;

/**
 * Trains an {@link Rbm} by contrastive divergence (CD-k, Hinton 2002) or persistent CD (PCD,
 * Tieleman 2008), by Hinton's recipe ("A practical guide to training RBMs", and the code of
 * Hinton and Salakhutdinov 2006):
 * <pre>
 *   positive phase   P0 = E[h | v0] (probabilities, or the linear means), h0 ~ p(h | v0) binary (Gaussian: P0 + N(0, 1))
 *   negative phase   v1 = p(v | h0) (probabilities, not samples), P1 = E[h | v1]; for k &gt; 1
 *                    h_i ~ p(h | v_i) and v_{i+1} = p(v | h_i) again
 *   PCD              the negative phase starts from persistent chains instead of the data, and the
 *                    chains' visible units are sampled (binary) so that they stay a Markov chain
 *   dW = lr ((v0^T P0 - vk^T Pk) / n - weightCost W), db = lr (sum v0 - sum vk) / n, dc = lr (sum P0 - sum Pk) / n
 *   increments       inc = momentum inc + d; params += inc; momentum initialMomentum for the first
 *                    momentumSwitchEpoch epochs, then finalMomentum
 * </pre>
 * After each epoch: the reconstruction error (sum over features of (v0 - v1)^2 with v1 the first
 * reconstruction, mean per row, accumulated during the epoch) and the mean free energy of the
 * training rows (and of validation rows when given: a widening gap means overfitting). Draws
 * come from the counter-based generator by (seed, step, Gibbs step, index), so runs are bitwise
 * the same for any thread count. A step allocates nothing.
 */
public final class RbmTrainer {
    private RbmTrainer() {}

    static final long STREAM = 0xA_0000_0000L;

    /**
     * The recipe. Hinton's defaults by {@link #hinton}: learning rate 0.1 (0.001 for Gaussian
     * hidden units), weight cost 0.0002, momentum 0.5 for 5 epochs then 0.9, CD-1, batches of 100.
     */
    public record Config(float learningRate, float weightCost, float initialMomentum, float finalMomentum, int momentumSwitchEpoch,
                         int gibbsSteps, boolean persistent, int batchSize, int epochs, long seed, int threads) {
        public Config {
            if (!(learningRate > 0f && learningRate < 10f)) {
                throw new IllegalArgumentException("RBM learning rate must be in (0, 10), got " + learningRate);
            }
            if (!(weightCost >= 0f && weightCost < 1f) || !(initialMomentum >= 0f && initialMomentum < 1f)
                    || !(finalMomentum >= 0f && finalMomentum < 1f)) {
                throw new IllegalArgumentException("RBM weight cost and momenta must be in [0, 1), got " + weightCost + ", "
                        + initialMomentum + ", " + finalMomentum);
            }
            if (gibbsSteps < 1 || gibbsSteps > 1000) {
                throw new IllegalArgumentException("CD-k takes 1 to 1000 Gibbs steps, got " + gibbsSteps);
            }
            if (batchSize < 1 || epochs < 1 || threads < 1 || momentumSwitchEpoch < 0) {
                throw new IllegalArgumentException("RBM batch size, epochs and threads must be positive, got " + batchSize + ", " + epochs
                        + ", " + threads);
            }
        }

        /** Hinton's recipe for this kind of hidden units, {@code epochs} epochs, seed 42, 1 thread. */
        public static Config hinton(Rbm.Kind kind, int epochs) {
            return new Config(kind == Rbm.Kind.BERNOULLI_GAUSSIAN ? 0.001f : 0.1f, 0.0002f, 0.5f, 0.9f, 5, 1, false, 100, epochs, 42, 1);
        }

        public Config withEpochs(int e) {
            return new Config(learningRate, weightCost, initialMomentum, finalMomentum, momentumSwitchEpoch, gibbsSteps, persistent, batchSize,
                    e, seed, threads);
        }

        public Config withSeed(long s) {
            return new Config(learningRate, weightCost, initialMomentum, finalMomentum, momentumSwitchEpoch, gibbsSteps, persistent, batchSize,
                    epochs, s, threads);
        }

        public Config withThreads(int t) {
            return new Config(learningRate, weightCost, initialMomentum, finalMomentum, momentumSwitchEpoch, gibbsSteps, persistent, batchSize,
                    epochs, seed, t);
        }

        public Config withLearningRate(float lr) {
            return new Config(lr, weightCost, initialMomentum, finalMomentum, momentumSwitchEpoch, gibbsSteps, persistent, batchSize,
                    epochs, seed, threads);
        }

        /** CD-k ({@code persistent} false) or PCD-k. */
        public Config withGibbs(int k, boolean pcd) {
            return new Config(learningRate, weightCost, initialMomentum, finalMomentum, momentumSwitchEpoch, k, pcd, batchSize,
                    epochs, seed, threads);
        }

        public Config withBatchSize(int b) {
            return new Config(learningRate, weightCost, initialMomentum, finalMomentum, momentumSwitchEpoch, gibbsSteps, persistent, b,
                    epochs, seed, threads);
        }
    }

    /** One epoch's figures; validation free energy NaN without validation data. */
    public record Epoch(int epoch, double reconstructionError, double freeEnergy, double validationFreeEnergy, double seconds) {}

    public record Result(Rbm rbm, List<Epoch> history) {}

    /** Trains a new RBM of {@code hidden} units of the given kind on the rows of {@code train} (values in [0, 1]). */
    public static Result fit(Rbm.Kind kind, int hidden, Dataset train, Dataset validation, Config cfg, Consumer<Epoch> onEpoch) {
        return fit(Rbm.initial(kind, train.features(), hidden, cfg.seed()), train, validation, cfg, onEpoch);
    }

    /** Trains a copy of {@code start} ({@code start} is left as it was). */
    public static Result fit(Rbm start, Dataset train, Dataset validation, Config cfg, Consumer<Epoch> onEpoch) {
        if (train.features() != start.visible()) {
            throw new IllegalArgumentException("the RBM has " + start.visible() + " visible units but " + train.source() + " has "
                    + train.features() + " features");
        }
        if (validation != null && validation.features() != start.visible()) {
            throw new IllegalArgumentException("validation data (" + validation.source() + ") has " + validation.features()
                    + " features but the RBM has " + start.visible() + " visible units");
        }
        float[] x = train.x();
        for (int i = 0; i < train.rows() * train.features(); i++) {
            if (!(x[i] >= 0f && x[i] <= 1f)) {
                throw new IllegalArgumentException(train.source() + ": row " + i / train.features() + ", column " + i % train.features()
                        + " is " + x[i] + "; an RBM's visible units take values in [0, 1]");
            }
        }
        Rbm rbm = start.copy();
        List<Epoch> history = new ArrayList<>();
        try (Parallelism par = Parallelism.of(cfg.threads())) {
            Loop loop = new Loop(rbm, train, cfg, par);
            long step = 0;
            for (int epoch = 1; epoch <= cfg.epochs(); epoch++) {
                Trainer.shuffle(loop.order, cfg.seed(), epoch);
                long t0 = System.nanoTime();
                float momentum = epoch > cfg.momentumSwitchEpoch() ? cfg.finalMomentum() : cfg.initialMomentum();
                double err = 0;
                for (int from = 0; from < train.rows(); from += loop.batch) {
                    int n = Math.min(loop.batch, train.rows() - from);
                    err += loop.step(from, n, step++, momentum);
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                Epoch e = new Epoch(epoch, err / train.rows(), rbm.meanFreeEnergy(loop.gemm, train.x(), train.rows()),
                        validation == null ? Double.NaN : rbm.meanFreeEnergy(loop.gemm, validation.x(), validation.rows()), sec);
                if (!Double.isFinite(e.reconstructionError()) || !Double.isFinite(e.freeEnergy())) {
                    throw new TrainingFailedException("RBM training stopped at epoch " + epoch + ": the reconstruction error is "
                            + e.reconstructionError() + " and the free energy " + e.freeEnergy() + "; try a smaller learning rate", step);
                }
                history.add(e);
                if (onEpoch != null) {
                    onEpoch.accept(e);
                }
            }
        }
        return new Result(rbm, history);
    }

    /** The rows' hidden means E[h | v] under the RBM (the data for the next RBM of a stack). */
    public static Dataset hiddenFeatures(Rbm rbm, Dataset data, int threads) {
        float[] out = new float[data.rows() * rbm.hidden()];
        try (Parallelism par = Parallelism.of(threads)) {
            Gemm g = new Gemm(par);
            int b = 1024;
            float[] h = new float[b * rbm.hidden()], v = new float[b * rbm.visible()];
            for (int from = 0; from < data.rows(); from += b) {
                int n = Math.min(b, data.rows() - from);
                System.arraycopy(data.x(), from * rbm.visible(), v, 0, n * rbm.visible());
                rbm.hiddenMeans(g, v, n, h);
                System.arraycopy(h, 0, out, from * rbm.hidden(), n * rbm.hidden());
            }
        }
        return new Dataset(out, data.rows(), rbm.hidden(), data.labels(), data.source() + " through an RBM");
    }

    /** A run's buffers, increments and chains. */
    static final class Loop {
        final Rbm rbm;
        final Dataset train;
        final Config cfg;
        final Gemm gemm;
        final int batch;
        final int[] order;
        final float[] v0;
        final float[] p0;
        final float[] hs;
        final float[] vk;
        final float[] pk;
        final float[] chain;
        final float[] grad;
        final float[] inc;
        final float[] colPos;
        final float[] colNeg;
        boolean chainStarted;

        Loop(Rbm rbm, Dataset train, Config cfg, Parallelism par) {
            this.rbm = rbm;
            this.train = train;
            this.cfg = cfg;
            gemm = new Gemm(par);
            batch = Math.min(cfg.batchSize(), train.rows());
            order = new int[train.rows()];
            int v = rbm.visible(), h = rbm.hidden();
            v0 = new float[batch * v];
            p0 = new float[batch * h];
            hs = new float[batch * h];
            vk = new float[batch * v];
            pk = new float[batch * h];
            chain = cfg.persistent() ? new float[batch * v] : null;
            grad = new float[rbm.parameters().length];
            inc = new float[rbm.parameters().length];
            colPos = new float[Math.max(v, h)];
            colNeg = new float[Math.max(v, h)];
        }

        /** Hidden states from means: binary samples, or means + N(0, 1) for linear units. */
        private void sampleHidden(float[] means, int rows, long stream) {
            int h = rbm.hidden();
            if (rbm.kind() == Rbm.Kind.BERNOULLI_BERNOULLI) {
                Bernoulli.sample(hs, 0, means, 0, rows * h, cfg.seed(), stream, 0);
            } else {
                Philox.fillNormal(hs, 0, rows * h, cfg.seed(), stream, 0);
                for (int i = 0; i < rows * h; i++) {
                    hs[i] += means[i];
                }
            }
        }

        /** One update from rows order[from .. from + n); returns the batch's summed squared reconstruction error. */
        double step(int from, int n, long step, float momentum) {
            int v = rbm.visible(), h = rbm.hidden();
            float[] p = rbm.parameters();
            long stream = STREAM + step * 2048;
            for (int r = 0; r < n; r++) {
                System.arraycopy(train.x(), order[from + r] * v, v0, r * v, v);
            }
            rbm.hiddenMeans(gemm, v0, n, p0);
            sampleHidden(p0, n, stream);
            rbm.visibleProbabilities(gemm, hs, n, vk);
            double err = 0;
            for (int i = 0; i < n * v; i++) {
                double d = v0[i] - vk[i];
                err += d * d;
            }
            int chainRows = n;
            if (cfg.persistent()) {
                // PCD: the chains continue from where they stopped (started from the first batch's data).
                if (!chainStarted) {
                    System.arraycopy(v0, 0, chain, 0, chain.length > n * v ? n * v : chain.length);
                    chainStarted = true;
                }
                chainRows = batch;
                System.arraycopy(chain, 0, vk, 0, batch * v);
                for (int k = 0; k < cfg.gibbsSteps(); k++) {
                    rbm.hiddenMeans(gemm, vk, batch, pk);
                    sampleHidden(pk, batch, stream + 2 * k + 1);
                    rbm.visibleProbabilities(gemm, hs, batch, vk);
                    Bernoulli.sample(vk, 0, vk, 0, batch * v, cfg.seed(), stream + 2 * k + 2, 0);
                }
                System.arraycopy(vk, 0, chain, 0, batch * v);
            } else {
                for (int k = 1; k < cfg.gibbsSteps(); k++) {
                    rbm.hiddenMeans(gemm, vk, n, pk);
                    sampleHidden(pk, n, stream + 2 * k + 1);
                    rbm.visibleProbabilities(gemm, hs, n, vk);
                }
            }
            rbm.hiddenMeans(gemm, vk, chainRows, pk);
            // grad = (v0^T P0) / n - (vk^T Pk) / chainRows, laid out as W (hidden x visible): P^T v.
            gemm.gemm(grad, 0, v, true, false, h, v, n, 1f / n, p0, 0, h, v0, 0, v, 0f);
            gemm.gemm(grad, 0, v, true, false, h, v, chainRows, -1f / chainRows, pk, 0, h, vk, 0, v, 1f);
            Reductions.colSums(colPos, 0, v0, 0, n, v, false);
            Reductions.colSums(colNeg, 0, vk, 0, chainRows, v, false);
            for (int i = 0; i < v; i++) {
                grad[rbm.visibleBias() + i] = colPos[i] / n - colNeg[i] / chainRows;
            }
            Reductions.colSums(colPos, 0, p0, 0, n, h, false);
            Reductions.colSums(colNeg, 0, pk, 0, chainRows, h, false);
            for (int j = 0; j < h; j++) {
                grad[rbm.hiddenBias() + j] = colPos[j] / n - colNeg[j] / chainRows;
            }
            float lr = cfg.learningRate(), wc = cfg.weightCost();
            int weights = v * h;
            for (int i = 0; i < p.length; i++) {
                float g = i < weights ? grad[i] - wc * p[i] : grad[i];
                inc[i] = momentum * inc[i] + lr * g;
                p[i] += inc[i];
            }
            return err;
        }
    }
}
