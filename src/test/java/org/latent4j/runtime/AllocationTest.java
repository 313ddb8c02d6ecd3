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
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ModelSpec spec = Model.encoder(64).dense(48).relu().dense(32).tanh().gaussianLatent(8)
                .decoder().dense(32).softplus().dense(48).elu(1f).dense(64).bernoulli();
        Graph g = Graph.build(spec).fuse();
        float[] params = Trainer.initialParams(g, 1);
        float[] grads = new float[params.length];
        int batch = 32;
        Executor ex = new Executor(Planner.training(g), Parallelism.serial(), batch);
        Optimizer opt = new Optimizer(OptimizerSpec.adam(1e-3f), params.length);
        float[] x = new float[batch * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i * 7919 % 101) / 100f;
        }
        long step = 0;
        for (int i = 0; i < 3000; i++) {   // warm-up: let C2 compile every kernel
            ex.load(g.input, x, 0, batch);
            ex.run(params, grads, batch, 5, step++, 1f);
            opt.step(params, grads, 1e-3f);
        }
        long tid = Thread.currentThread().threadId();
        // Five windows of 100 steps. A JIT recompilation can run a method interpreted for a while
        // (and the interpreter boxes vectors), so a window may see a transient allocation; a step
        // that allocates by itself (a boxed vector, a lambda, a scratch array) shows in every window.
        long[] windows = new long[5];
        for (int w = 0; w < windows.length; w++) {
            long before = mx.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 100; i++) {
                ex.load(g.input, x, 0, batch);
                ex.run(params, grads, batch, 5, step++, 1f);
                opt.step(params, grads, 1e-3f);
            }
            windows[w] = mx.getThreadAllocatedBytes(tid) - before;
        }
        long[] sorted = windows.clone();
        java.util.Arrays.sort(sorted);
        assertTrue(sorted[2] == 0, "bytes allocated per window of 100 training steps: " + java.util.Arrays.toString(windows));
    }
}
