package org.latent4j.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
    private static final Parallelism SERIAL = new Parallelism(null, 1, false);

    private final ForkJoinPool pool;   // null when serial
    private final int threads;
    private final boolean owned;

    private Parallelism(ForkJoinPool pool, int threads, boolean owned) {
        this.pool = pool;
        this.threads = threads;
        this.owned = owned;
    }

    /** Runs everything on the calling thread. */
    public static Parallelism serial() {
        return SERIAL;
    }

    /**
     * {@code threads}-way parallelism: the calling thread plus a dedicated pool of threads - 1
     * daemon workers; 1 means serial. Close it when done.
     */
    public static Parallelism of(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        logOnce(threads);
        if (threads == 1) {
            return SERIAL;
        }
        AtomicInteger n = new AtomicInteger();
        ForkJoinPool.ForkJoinWorkerThreadFactory factory = p -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("latent4j-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        // The calling thread always runs a share itself (see forEach), so the pool needs one
        // worker fewer: threads - 1 workers plus the caller keep exactly `threads` cores busy,
        // without a spare worker spinning against the caller.
        return new Parallelism(new ForkJoinPool(threads - 1, factory, null, false), threads, true);
    }

    /** Runs on a pool the caller owns, using up to its parallelism; {@link #close()} leaves it running. */
    public static Parallelism using(ForkJoinPool pool) {
        if (pool == null) {
            throw new IllegalArgumentException("pool must not be null");
        }
        logOnce(pool.getParallelism());
        return new Parallelism(pool, pool.getParallelism(), false);
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
        if (pool == null || tasks == 1 || threads == 1) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
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
        return "Parallelism[" + threads + " thread(s)" + (owned ? ", own pool" : pool == null ? ", serial" : ", shared pool") + "]";
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
