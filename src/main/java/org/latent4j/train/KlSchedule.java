package org.latent4j.train;

import java.util.Locale;

/**
 * How the KL term of a VAE is weighted over training, on top of beta (the KL weight):
 * <ul>
 * <li>{@link Constant}: beta throughout;</li>
 * <li>{@link LinearWarmUp}: beta * min(1, step / steps), KL annealing from 0 (Bowman et al. 2016);</li>
 * <li>{@link Cyclical}: the run's steps split into {@code cycles} equal cycles; in each, the
 *     weight rises linearly from 0 to beta over the first {@code rampFraction} of the cycle and
 *     stays at beta for the rest (Fu et al. 2019);</li>
 * <li>{@link Capacity}: the objective's KL part is beta * |KL - C| with a capacity C rising
 *     linearly from 0 to {@code maxNats} over {@code steps} steps (Burgess et al. 2018), KL the
 *     batch's mean; its gradient weight is beta * sign(KL - C).</li>
 * </ul>
 * Each is a pure function of the optimizer step (and, for the capacity, of the batch's KL), so a
 * resumed run continues bitwise.
 */
public sealed interface KlSchedule {
    record Constant() implements KlSchedule {}

    record LinearWarmUp(long steps) implements KlSchedule {
        public LinearWarmUp {
            if (steps <= 0) {
                throw new IllegalArgumentException("KL warm-up needs a positive number of steps, got " + steps);
            }
        }
    }

    record Cyclical(int cycles, double rampFraction) implements KlSchedule {
        public Cyclical {
            if (cycles <= 0) {
                throw new IllegalArgumentException("cyclical KL annealing needs at least one cycle, got " + cycles);
            }
            if (!(rampFraction > 0 && rampFraction <= 1)) {
                throw new IllegalArgumentException("cyclical KL annealing: the rising part must be a fraction in (0, 1], got " + rampFraction);
            }
        }
    }

    record Capacity(double maxNats, long steps) implements KlSchedule {
        public Capacity {
            if (!(maxNats >= 0 && Double.isFinite(maxNats)) || steps <= 0) {
                throw new IllegalArgumentException("KL capacity needs a finite maximum >= 0 nats and a positive number of steps, got "
                        + maxNats + " and " + steps);
            }
        }
    }

    static KlSchedule constant() {
        return new Constant();
    }

    static KlSchedule linear(long steps) {
        return new LinearWarmUp(steps);
    }

    static KlSchedule cyclical(int cycles, double rampFraction) {
        return new Cyclical(cycles, rampFraction);
    }

    static KlSchedule capacity(double maxNats, long steps) {
        return new Capacity(maxNats, steps);
    }

    /** The capacity C at this step (0 for the schedules without one). */
    default double capacityAt(long step) {
        return this instanceof Capacity c ? c.maxNats() * Math.min(1.0, (double) step / c.steps()) : 0;
    }

    /**
     * The weight of the KL gradient at this optimizer step (0-based) of a run of totalSteps
     * steps, given beta and the batch's mean KL (used by the capacity form only).
     */
    default float weight(float beta, long step, long totalSteps, double batchKl) {
        return switch (this) {
            case Constant c -> beta;
            case LinearWarmUp w -> (float) (beta * Math.min(1.0, (double) step / w.steps()));
            case Cyclical c -> {
                double cycle = Math.max(1.0, (double) totalSteps / c.cycles());
                double tau = (step % (long) Math.ceil(cycle)) / cycle;
                yield (float) (beta * Math.min(1.0, tau / c.rampFraction()));
            }
            case Capacity c -> batchKl > capacityAt(step) ? beta : batchKl < capacityAt(step) ? -beta : 0f;
        };
    }

    /** The objective's KL part for a mean KL (beta KL, or beta |KL - C| for the capacity form). */
    default double objective(float beta, long step, double meanKl) {
        return this instanceof Capacity ? beta * Math.abs(meanKl - capacityAt(step)) : beta * meanKl;
    }

    /**
     * Parses "constant", "linear:STEPS", "cyclical:CYCLES[,FRACTION]" (fraction 0.5 if left out)
     * or "capacity:MAX_NATS,STEPS"; errors say what is wrong in one sentence.
     */
    static KlSchedule parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.equals("constant")) {
                return constant();
            }
            String[] kv = t.split(":", 2);
            String[] args = kv.length == 2 ? kv[1].split(",") : new String[0];
            switch (kv[0]) {
                case "linear" -> {
                    if (args.length == 1) {
                        return linear(Long.parseLong(args[0].trim()));
                    }
                }
                case "cyclical" -> {
                    if (args.length == 1 || args.length == 2) {
                        return cyclical(Integer.parseInt(args[0].trim()), args.length == 2 ? Double.parseDouble(args[1].trim()) : 0.5);
                    }
                }
                case "capacity" -> {
                    if (args.length == 2) {
                        return capacity(Double.parseDouble(args[0].trim()), Long.parseLong(args[1].trim()));
                    }
                }
                default -> { }
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("KL schedule \"" + text + "\": " + e.getMessage() + " is not a number");
        }
        throw new IllegalArgumentException("KL schedule \"" + text + "\" is not one of constant, linear:STEPS,"
                + " cyclical:CYCLES[,FRACTION], capacity:MAX_NATS,STEPS");
    }
}
