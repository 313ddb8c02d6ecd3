package org.latent4j.kernel;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The calling thread plus {@code threads - 1} helper threads that spin between calls, for work
 * too short to wake a pool's worker for: a batch-1 product of a few microseconds (a
 * {@link java.util.concurrent.ForkJoinPool} worker took 50-100 us to wake on this kind of VM).
 * A helper spins ({@link Thread#onSpinWait}) for {@link #spinNanos()} after its last share, so a
 * sequence of calls keeps it hot, then parks until the next call wakes it (the first call after a
 * pause pays one wake-up).
 *
 * <p>{@link #run} splits tasks [0, tasks) into {@code threads} contiguous shares; the caller runs
 * the first. Tasks must write disjoint outputs (never parts of one sum), so results are those of
 * one thread. One caller at a time: a team belongs to one calling thread (one per executor or
 * per application thread). Helpers are daemon threads, started on first use and stopped by
 * {@link #close} or when the team is no longer reachable.
 */
public final class SpinTeam implements AutoCloseable {
    /** System property: microseconds a helper spins after its last share before it parks (default 1000). */
    public static final String SPIN_PROPERTY = "latent4j.spinMicros";

    private static final Cleaner CLEANER = Cleaner.create();
    private static final AtomicInteger NAMES = new AtomicInteger();

    private final Core core;
    private final Cleaner.Cleanable cleanable;

    /** A team of {@code threads} (the caller and threads - 1 helpers); 1 runs everything on the caller. */
    public SpinTeam(int threads) {
        this(threads, spinDefault());
    }

    public SpinTeam(int threads, long spinNanos) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (spinNanos < 0) {
            throw new IllegalArgumentException("spin time must not be negative, got " + spinNanos + " ns");
        }
        core = new Core(threads - 1, spinNanos);
        cleanable = CLEANER.register(this, core::close);   // the helpers see the core only, never this handle
    }

    private static long spinDefault() {
        String s = System.getProperty(SPIN_PROPERTY);
        if (s == null || s.isBlank()) {
            return 1_000_000L;
        }
        try {
            long us = Long.parseLong(s.trim());
            if (us >= 0) {
                return us * 1000;
            }
        } catch (NumberFormatException ignored) {
            // fall through
        }
        throw new IllegalArgumentException(SPIN_PROPERTY + " must be a whole number of microseconds (0 or more), got '" + s + "'");
    }

    /** The caller plus the helpers. */
    public int threads() {
        return core.helpers + 1;
    }

    public long spinNanos() {
        return core.spinNanos;
    }

    /**
     * Runs {@code body.accept(i)} for every i in [0, tasks), share s of the threads taking
     * [tasks * s / threads, tasks * (s + 1) / threads); returns when all are done. An exception
     * of a task is rethrown here (after every share finished). Allocates nothing.
     */
    public void run(int tasks, IntConsumer body) {
        core.run(tasks, body);
    }

    /** Stops the helpers (they finish a share they are in); the team then refuses work. */
    @Override
    public void close() {
        cleanable.clean();
    }

    private static final class Core {
        final int helpers;
        final long spinNanos;
        final Thread[] threads;
        final AtomicIntegerArray sleeping;
        final AtomicInteger pending = new AtomicInteger();
        volatile int epoch;
        volatile boolean closed;
        volatile Throwable failure;
        // The call, published by the volatile write of epoch.
        IntConsumer body;
        int tasks;

        Core(int helpers, long spinNanos) {
            this.helpers = helpers;
            this.spinNanos = spinNanos;
            this.threads = new Thread[helpers];
            this.sleeping = new AtomicIntegerArray(Math.max(1, helpers));
        }

        void run(int tasks, IntConsumer body) {
            if (closed) {
                throw new IllegalStateException("the spin team is closed");
            }
            if (tasks <= 0) {
                return;
            }
            if (helpers == 0 || tasks == 1) {
                for (int i = 0; i < tasks; i++) {
                    body.accept(i);
                }
                return;
            }
            if (threads[0] == null) {
                start();
            }
            this.body = body;
            this.tasks = tasks;
            pending.set(helpers);
            epoch = epoch + 1;   // publishes body and tasks
            for (int h = 0; h < helpers; h++) {
                if (sleeping.get(h) != 0) {
                    LockSupport.unpark(threads[h]);
                }
            }
            Throwable mine = null;
            try {
                share(0);
            } catch (Throwable t) {
                mine = t;
            }
            awaitZero(pending);   // every share finishes before we return or throw
            this.body = null;
            Throwable theirs = failure;
            failure = null;
            Throwable t = mine != null ? mine : theirs;
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
        }

        private void share(int s) {
            int threadsAll = helpers + 1;
            int t0 = (int) ((long) tasks * s / threadsAll), t1 = (int) ((long) tasks * (s + 1) / threadsAll);
            for (int i = t0; i < t1; i++) {
                body.accept(i);
            }
        }

        /** Starts the helpers, before the epoch of their first call is published (so none misses it). */
        private synchronized void start() {
            int now = epoch;
            for (int h = 0; h < helpers; h++) {
                if (threads[h] == null) {
                    int me = h;
                    threads[h] = Thread.ofPlatform().daemon().name("latent4j-spin-" + NAMES.incrementAndGet()).start(() -> helper(me, now));
                }
            }
        }

        private void helper(int h, int seen) {
            long idleSince = System.nanoTime();
            int spins = 0;
            while (!closed) {
                int e = epoch;
                if (e != seen) {
                    seen = e;
                    try {
                        share(h + 1);
                    } catch (Throwable t) {
                        failure = t;
                    } finally {
                        pending.decrementAndGet();
                    }
                    idleSince = System.nanoTime();
                    spins = 0;
                    continue;
                }
                if ((++spins & 63) != 0 || System.nanoTime() - idleSince < spinNanos) {
                    Thread.onSpinWait();
                    continue;
                }
                sleeping.set(h, 1);
                if (epoch == seen && !closed) {
                    LockSupport.park(this);
                }
                sleeping.set(h, 0);
                idleSince = System.nanoTime();
                spins = 0;
            }
        }

        void close() {
            closed = true;
            for (Thread t : threads) {
                if (t != null) {
                    LockSupport.unpark(t);
                }
            }
        }
    }

    /**
     * Waits until {@code pending} is 0: spins about 1024 times (tens of microseconds), then yields
     * on each check, so a thread the OS descheduled (another process on its core) gets a core back
     * sooner than a full time slice later. The callers' wait for their workers, here and in
     * {@link Parallelism}.
     */
    static void awaitZero(AtomicInteger pending) {
        for (int spins = 0; pending.get() != 0; spins++) {
            if (spins < 1024) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}
