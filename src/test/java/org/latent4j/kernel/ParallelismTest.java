package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelismTest {

    @Test
    void everyTaskRunsOnceAndAThreadDoneEarlyTakesTheTasksAnotherHasNotStarted() {
        int tasks = 40;
        try (Parallelism p = Parallelism.of(2)) {
            for (int call = 0; call < 20; call++) {
                AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                String[] ranBy = new String[tasks];
                Thread caller = Thread.currentThread();
                p.forEach(tasks, t -> {
                    runs.incrementAndGet(t);
                    ranBy[t] = Thread.currentThread().getName();
                    if (Thread.currentThread() == caller) {
                        // The caller's range is [0, 20): it falls behind, 2 ms a task.
                        long end = System.nanoTime() + 2_000_000;
                        while (System.nanoTime() < end) {
                            Thread.onSpinWait();
                        }
                    }
                });
                for (int t = 0; t < tasks; t++) {
                    assertEquals(1, runs.get(t), "task " + t + " ran " + runs.get(t) + " times in call " + call);
                }
                int taken = 0;
                for (int t = 0; t < tasks / 2; t++) {
                    if (!ranBy[t].equals(caller.getName())) {
                        taken++;
                    }
                }
                // The worker finishes its 20 quick tasks at once, then takes most of the caller's.
                assertTrue(taken >= 5, "the worker took only " + taken + " of the slow caller's 20 tasks in call " + call);
            }
        }
    }
}
