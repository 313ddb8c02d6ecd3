package org.latent4j.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The thread policy of the engine: how many threads a kernel may use and on which pool.
 *
 * <p>latent4j never uses the common pool. {@link #of(int)} makes a dedicated pool of daemon
 * threads (closed by {@link #close()}); {@link #using(ForkJoinPool)} runs on a pool the
 * embedding application owns (a web server's or a Spark executor's) and never shuts it down.
 *
 * <p>Work is split into tasks that each own a disjoint part of the output and never split a
 * reduction, so results are bitwise the same for any thread count.
 */
public final class Parallelism implements AutoCloseable {
    /** System property for the default thread count (else the number of available processors). */
    public static final String THREADS_PROPERTY = "latent4j.threads";

    private static final System.Logger LOG = System.getLogger("org.latent4j");
    private static final AtomicBoolean LOGGED = new AtomicBoolean();
    private static final Parallelism SERIAL = new Parallelism(null, null, 1, false);

    private final ForkJoinPool pool;   // an application's pool (using), else null
    private final Team team;           // the dedicated workers (of), else null
    private final int threads;
    private final boolean owned;

    private Parallelism(ForkJoinPool pool, Team team, int threads, boolean owned) {
        this.pool = pool;
        this.team = team;
        this.threads = threads;
        this.owned = owned;
    }

    /** Runs everything on the calling thread. */
    public static Parallelism serial() {
        return SERIAL;
    }

    /**
     * {@code threads}-way parallelism: the calling thread plus a dedicated team of threads - 1
     * daemon workers; 1 means serial. Close it when done.
     *
     * <p>The workers stay hot between calls: after a {@link #forEach} a worker spins for
     * {@link #SPIN_PROPERTY} microseconds (default {@value #DEFAULT_SPIN_MICROS}) waiting for the next
     * one before it parks. A training step makes some fifty parallel calls a few microseconds
     * apart; waking a parked thread costs 50-100 microseconds on a virtual machine, more than many
     * of those calls take, so a pool that parks between calls spent most of a step waking up.
     */
    public static Parallelism of(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        logOnce(threads);
        if (threads == 1) {
            return SERIAL;
        }
        // The calling thread always runs a share itself, so the team has one worker fewer.
        return new Parallelism(null, new Team(threads - 1, spinNanos()), threads, true);
    }

    /** System property: microseconds a worker of {@link #of(int)} spins for the next call before it parks. */
    public static final String SPIN_PROPERTY = "latent4j.spin.micros";
    static final int DEFAULT_SPIN_MICROS = 500;

    private static long spinNanos() {
        String s = System.getProperty(SPIN_PROPERTY);
        if (s == null || s.isBlank()) {
            return DEFAULT_SPIN_MICROS * 1000L;
        }
        try {
            long us = Long.parseLong(s.trim());
            if (us >= 0) {
                return us * 1000L;
            }
        } catch (NumberFormatException ignored) {
            // fall through to the error below
        }
        throw new IllegalArgumentException(SPIN_PROPERTY + " must be a whole number of microseconds (0 or more), got '" + s + "'");
    }

    /** Runs on a pool the caller owns, using up to its parallelism; {@link #close()} leaves it running. */
    public static Parallelism using(ForkJoinPool pool) {
        if (pool == null) {
            throw new IllegalArgumentException("pool must not be null");
        }
        logOnce(pool.getParallelism());
        return new Parallelism(pool, null, pool.getParallelism(), false);
    }

    /** {@code latent4j.threads} if set, else the number of available processors. */
    public static int defaultThreads() {
        String s = System.getProperty(THREADS_PROPERTY);
        if (s == null || s.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int t = Integer.parseInt(s.trim());
            if (t >= 1) {
                return t;
            }
        } catch (NumberFormatException ignored) {
            // fall through to the error below
        }
        throw new IllegalArgumentException(THREADS_PROPERTY + " must be a whole number of at least 1, got '" + s + "'");
    }

    private static void logOnce(int threads) {
        if (LOGGED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.INFO, "latent4j: SIMD " + Simd.describe() + ", " + threads + " thread(s)");
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body.accept(i)} for every i in [0, tasks). Tasks must write disjoint outputs.
     * With one thread or one task everything runs on the calling thread.
     */
    public void forEach(int tasks, IntConsumer body) {
        if (tasks <= 0) {
            return;
        }
        if (tasks == 1 || threads == 1 || (team == null && pool == null)) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        if (team != null) {
            team.run(tasks, body);
            return;
        }
        if (inPool(pool)) {
            new RangeTask(body, 0, tasks).invoke();
            return;
        }
        // Called from outside the pool: the caller takes the first share itself, so only
        // threads - 1 workers have to wake up (a wake-up costs tens of microseconds here),
        // and joins the rest, running any share no worker has taken yet.
        int shares = Math.min(threads, tasks);
        RangeTask[] forked = new RangeTask[shares - 1];
        for (int s = 1; s < shares; s++) {
            forked[s - 1] = new RangeTask(body, (int) ((long) tasks * s / shares), (int) ((long) tasks * (s + 1) / shares));
            pool.execute(forked[s - 1]);
        }
        try {
            for (int i = 0, end = tasks / shares; i < end; i++) {
                body.accept(i);
            }
        } finally {
            // Always wait for the other shares, so no task still writes after we return or throw.
            for (int s = forked.length - 1; s >= 0; s--) {
                forked[s].join();
            }
        }
    }

    private static boolean inPool(ForkJoinPool pool) {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == pool;
    }

    @Override
    public void close() {
        if (team != null) {
            team.close();
        }
        if (owned && pool != null) {
            pool.shutdown();
            try {
                pool.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "Parallelism[" + threads + " thread(s)" + (team != null ? ", own workers" : pool == null ? ", serial" : ", shared pool") + "]";
    }

    /**
     * The workers of {@link #of(int)}: threads that spin for the next call, then park. One call
     * runs at a time: a call made while another is running (from a second application thread, or
     * from inside a task) runs all its tasks on its own thread, which gives the same results.
     * Each thread runs a fixed range of the tasks (the caller the first): thread i of a team of p
     * takes tasks [n i / p, n (i + 1) / p), so the rows a thread wrote in one call are the rows it
     * reads in the next (measured: a step 10-25 % faster than tasks claimed from a shared counter);
     * a thread done with its range then takes the tasks the others have not started.
     */
    private static final class Team {
        private final Thread[] workers;
        private final long spinNanos;
        private final AtomicBoolean busy = new AtomicBoolean();
        private volatile boolean stop;                              // a task failed: the others end early
        private final AtomicInteger pending = new AtomicInteger();
        private final AtomicInteger[] nextTask;                     // per thread: the next task of its range not yet started
        private final AtomicInteger parked = new AtomicInteger();   // workers parked or about to park
        private volatile long generation;                          // one more per call
        private volatile boolean closed;
        private IntConsumer body;                                   // the current call (published by generation)
        private int tasks;
        private volatile Throwable failure;

        Team(int workerCount, long spinNanos) {
            this.spinNanos = spinNanos;
            this.nextTask = new AtomicInteger[workerCount + 1];
            for (int i = 0; i < nextTask.length; i++) {
                nextTask[i] = new AtomicInteger();
            }
            this.workers = new Thread[workerCount];
            for (int i = 0; i < workerCount; i++) {
                int me = i + 1;
                Thread t = new Thread(() -> work(me), "latent4j-worker-" + me);
                t.setDaemon(true);
                workers[i] = t;
            }
            for (Thread t : workers) {
                t.start();
            }
        }

        void run(int tasks, IntConsumer body) {
            if (closed) {
                throw new IllegalStateException("this Parallelism is closed");
            }
            if (isWorker() || !busy.compareAndSet(false, true)) {
                for (int i = 0; i < tasks; i++) {
                    body.accept(i);
                }
                return;
            }
            try {
                this.body = body;
                this.tasks = tasks;
                this.failure = null;
                stop = false;
                pending.set(workers.length);
                for (int v = 0; v < nextTask.length; v++) {
                    nextTask[v].set((int) ((long) tasks * v / nextTask.length));
                }
                generation = generation + 1;        // publishes body, tasks and the ranges
                if (parked.get() > 0) {
                    for (Thread w : workers) {
                        LockSupport.unpark(w);
                    }
                }
                claim(body, tasks, 0);
                // Wait for the workers to leave this call, so no task still writes after we return.
                SpinTeam.awaitZero(pending);
            } finally {
                this.body = null;
                busy.set(false);
            }
            Throwable f = failure;
            if (f != null) {
                failure = null;
                if (f instanceof RuntimeException r) {
                    throw r;
                }
                if (f instanceof Error e) {
                    throw e;
                }
                throw new IllegalStateException(f);
            }
        }

        /**
         * Runs this thread's share of the tasks: a fixed range per thread (me = 0 for the caller), so
         * each thread keeps its rows and tiles from call to call; then, its own range done, the tasks
         * not yet started in the others' ranges, so a thread that falls behind (a vCPU slowed by
         * another guest, a descheduled worker) holds a call up by one task at most. Which thread runs a
         * task never changes its result.
         */
        private void claim(IntConsumer body, int tasks, int me) {
            try {
                int p = workers.length + 1;
                for (int i = 0; i < p && !stop; i++) {
                    int v = (me + i) % p;
                    AtomicInteger next = nextTask[v];
                    int end = (int) ((long) tasks * (v + 1) / p);
                    for (int t; !stop && (t = next.getAndIncrement()) < end; ) {
                        body.accept(t);
                    }
                }
            } catch (Throwable e) {
                stop = true;   // the others stop at their next task
                if (failure == null) {
                    failure = e;
                }
            }
        }

        private boolean isWorker() {
            Thread me = Thread.currentThread();
            for (Thread w : workers) {
                if (w == me) {
                    return true;
                }
            }
            return false;
        }

        private void work(int me) {
            long seen = 0;
            while (true) {
                long g = generation;
                if (g == seen) {
                    g = await(seen);
                    if (g == seen) {
                        return;   // closed
                    }
                }
                seen = g;
                claim(body, tasks, me);
                pending.decrementAndGet();
            }
        }

        /** Spins, then parks, until a new call (its generation) or close (returns seen). */
        private long await(long seen) {
            long start = System.nanoTime();
            int spins = 0;
            while (true) {
                long g = generation;
                if (g != seen || closed) {
                    return closed ? seen : g;
                }
                if (++spins < 256) {
                    Thread.onSpinWait();
                    continue;
                }
                spins = 0;
                if (System.nanoTime() - start < spinNanos) {
                    Thread.yield();   // returns at once on an idle core; lets another runnable thread in on a busy one
                    continue;
                }
                parked.incrementAndGet();
                try {
                    // The caller bumps generation and then reads parked; we raised parked and then
                    // read generation: one of us sees the other, so no call is missed.
                    while (generation == seen && !closed) {
                        LockSupport.park(this);
                    }
                } finally {
                    parked.decrementAndGet();
                }
                start = System.nanoTime();
            }
        }

        void close() {
            closed = true;
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            for (Thread w : workers) {
                try {
                    w.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static final class RangeTask extends RecursiveAction {
        private static final long serialVersionUID = 1L;
        private final transient IntConsumer body;
        private final int lo;
        private final int hi;

        RangeTask(IntConsumer body, int lo, int hi) {
            this.body = body;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.accept(lo);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new RangeTask(body, lo, mid), new RangeTask(body, mid, hi));
        }
    }
}
