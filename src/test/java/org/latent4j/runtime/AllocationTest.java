package org.latent4j.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;
import org.latent4j.dsl.Model;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.graph.Planner;
import org.latent4j.kernel.Parallelism;
import org.latent4j.train.Optimizer;
import org.latent4j.train.OptimizerSpec;
import org.latent4j.train.Trainer;

/** After warm-up, a training step (plan run + optimizer update) allocates nothing on the heap. */
class AllocationTest {
    @Test
    void aTrainingStepAllocatesNothingAfterWarmUp() {
        check(Model.encoder(64).dense(48).relu().dense(32).tanh().gaussianLatent(8)
                .decoder().dense(32).softplus().dense(48).elu(1f).dense(64).bernoulli());
    }

    @Test
    void theOtherLayersAllocateNothingEither() {
        // Conditions, input noise, dropout, sparsity and activity penalties, a clamped
        // log-variance, free bits (per-dimension KL weights); then a contractive code and Huber loss.
        check(Model.encoder(64).conditionedOn(4).saltAndPepper(0.1f).dense(48).sigmoid().sparsity(0.1f, 1f).dropout(0.2f)
                .gaussianLatent(8).clampLogVariance(-6f, 4f).decoder().dense(48).relu().activityL1(1e-3f).dense(64).bernoulli());
        check(Model.encoder(64).gaussianNoise(0.1f).maskingNoise(0.2f).dense(32).tanh().latent(8).sigmoid().contractive(0.1f)
                .decoder().dense(64).huber(0.5f));
        // Batch normalization, with its running statistics moved after each step.
        check(Model.encoder(64).batchNorm().dense(48).batchNorm().relu().gaussianLatent(8).decoder().dense(48).batchNorm().relu()
                .dense(64).bernoulli());
    }

    @Test
    void convolutionalModelsAllocateNothingEither() {
        // Convolutions both ways, per-channel batch normalization, max pooling (its argmax buffer), a residual block, upsampling.
        check(Model.encoder(1, 8, 8).conv2d(4, 3, 1, 1).batchNorm().relu().maxPool(2, 2).residualBlock().flatten().gaussianLatent(8)
                .decoder().dense(4 * 4 * 4).relu().reshape(4, 4, 4).upsample(2).convTranspose2d(1, 3, 1, 1).bernoulli());
    }

    @Test
    void discreteLatentsAllocateNothingEither() {
        // VQ with moving averages and revival (the state update), VQ by gradient with cosine search, FSQ.
        check(Model.encoder(1, 8, 8).conv2d(4, 3, 2, 1).relu().vectorQuantized(16, 3).deadCodeThreshold(0.5f)
                .decoder().convTranspose2d(1, 4, 2, 1).bernoulli());
        check(Model.encoder(1, 8, 8).conv2d(4, 3, 2, 1).relu().vectorQuantized(16, 3).codebookByGradient().cosine()
                .decoder().convTranspose2d(1, 4, 2, 1).bernoulli());
        check(Model.encoder(64).dense(16).relu().finiteScalar(5, 4, 3).decoder().dense(64).bernoulli());
    }

    static void check(ModelSpec spec) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Graph g = Graph.build(spec).fuse();
        float[] params = Trainer.initialParams(g, 1);
        float[] grads = new float[params.length];
        int batch = 32;
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        Optimizer opt = new Optimizer(OptimizerSpec.adam(1e-3f), g.trainableCount());
        float[] x = new float[batch * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i * 7919 % 101) / 100f;
        }
        float[] c = new float[batch * Math.max(1, spec.conditionDim())];
        for (int r = 0; r < batch && spec.isConditional(); r++) {
            c[r * spec.conditionDim() + r % spec.conditionDim()] = 1f;
        }
        if (g.kl >= 0) {
            ex.klDimensionWeights(new float[] {1f, 0f, 1f, 1f, 0f, 1f, 1f, 1f});
        }
        long step = 0;
        for (int i = 0; i < 2000; i++) {   // warm-up: let C2 compile every kernel
            ex.load(g.input, x, 0, batch);
            if (g.condition >= 0) {
                ex.load(g.condition, c, 0, batch);
            }
            ex.forward(params, batch, 5, step);
            ex.backward(params, grads, batch, 5, step++, 1f);
            opt.step(params, grads, 1e-3f);
            ex.updateRunningStatistics(params);
        }
        long tid = Thread.currentThread().threadId();
        // Windows of 100 steps until three in a row allocate nothing. While the JIT still
        // (re)compiles, a method may run interpreted for a while, and the interpreter boxes vectors;
        // a step that allocates by itself (a boxed vector, a lambda, a scratch array) never gets there.
        java.util.List<Long> windows = new java.util.ArrayList<>();
        int zerosInARow = 0;
        while (zerosInARow < 3 && windows.size() < 60) {
            long before = mx.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 100; i++) {
                ex.load(g.input, x, 0, batch);
                if (g.condition >= 0) {
                    ex.load(g.condition, c, 0, batch);
                }
                ex.forward(params, batch, 5, step);
                ex.backward(params, grads, batch, 5, step++, 1f);
                opt.step(params, grads, 1e-3f);
                ex.updateRunningStatistics(params);
            }
            long bytes = mx.getThreadAllocatedBytes(tid) - before;
            windows.add(bytes);
            zerosInARow = bytes == 0 ? zerosInARow + 1 : 0;
        }
        assertTrue(zerosInARow == 3, "bytes allocated per window of 100 training steps: " + windows);
    }
}
