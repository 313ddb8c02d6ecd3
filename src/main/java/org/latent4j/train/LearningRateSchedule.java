package org.latent4j.train;

/**
 * How the learning rate moves over a run, as a pure function of the optimizer step (so a resumed
 * run follows exactly the same rates): constant, step decay, exponential decay, cosine decay,
 * and a linear warm-up in front of any of them. Rates are computed in double and rounded once.
 */
public sealed interface LearningRateSchedule {
    /**
     * The rate at optimizer step {@code step} (0-based over the whole run) for base rate
     * {@code base}, with {@code stepsPerEpoch} steps per epoch and {@code epochs} epochs in all.
     */
    float rate(float base, long step, int stepsPerEpoch, int epochs);

    /** The base rate throughout. */
    record Constant() implements LearningRateSchedule {
        @Override
        public float rate(float base, long step, int stepsPerEpoch, int epochs) {
            return base;
        }
    }

    /** base * factor^(epoch / everyEpochs), the epoch counted from 0. */
    record StepDecay(int everyEpochs, float factor) implements LearningRateSchedule {
        public StepDecay {
            if (everyEpochs < 1 || !(factor > 0f && factor <= 1f)) {
                throw new IllegalArgumentException("step decay needs every >= 1 epoch and a factor in (0, 1], got " + everyEpochs + ", " + factor);
            }
        }

        @Override
        public float rate(float base, long step, int stepsPerEpoch, int epochs) {
            long epoch = step / stepsPerEpoch;
            return (float) (base * StrictMath.pow(factor, (double) (epoch / everyEpochs)));
        }
    }

    /** base * gamma^epoch, the epoch counted from 0. */
    record Exponential(float gamma) implements LearningRateSchedule {
        public Exponential {
            if (!(gamma > 0f && gamma <= 1f)) {
                throw new IllegalArgumentException("exponential decay needs gamma in (0, 1], got " + gamma);
            }
        }

        @Override
        public float rate(float base, long step, int stepsPerEpoch, int epochs) {
            return (float) (base * StrictMath.pow(gamma, (double) (step / stepsPerEpoch)));
        }
    }

    /** From base down to base * minFactor along half a cosine over all the run's steps. */
    record Cosine(float minFactor) implements LearningRateSchedule {
        public Cosine {
            if (!(minFactor >= 0f && minFactor <= 1f)) {
                throw new IllegalArgumentException("cosine decay needs a floor factor in [0, 1], got " + minFactor);
            }
        }

        @Override
        public float rate(float base, long step, int stepsPerEpoch, int epochs) {
            double total = (double) stepsPerEpoch * epochs, t = Math.min(step, (long) total) / total;
            double low = (double) base * minFactor;
            return (float) (low + (base - low) * 0.5 * (1 + cosPi(t)));
        }

        /**
         * cos(pi t) for t in [0, 1]: reduced in t (exact: 1/2 - t and 1 - t need no rounding on [1/4, 1])
         * to an argument within pi / 4, then a Taylor polynomial in plain double arithmetic (the same bits
         * everywhere, nothing allocated). Not StrictMath.cos: JDK 25's FdLibm allocates its reduction's
         * 2-element array on every call that C2's escape analysis does not remove, and whether it does
         * depends on the profile (32 bytes a training step in the full test JVM, none in a lone test).
         */
        static double cosPi(double t) {
            if (t <= 0.25) {
                return cosSmall(Math.PI * t);
            }
            if (t <= 0.75) {
                return sinSmall(Math.PI * (0.5 - t));
            }
            return -cosSmall(Math.PI * (1 - t));
        }

        /** (-1)^k / (2k)! for k = 1 .. 9, and (-1)^k / (2k + 1)! for k = 1 .. 8 (factorials exact in double). */
        private static final double[] COS = new double[9], SIN = new double[8];

        static {
            double f = 1;
            for (int m = 1; m <= 18; m++) {
                f *= m;
                int k = m / 2;
                if (m % 2 == 0) {
                    COS[k - 1] = (k % 2 == 0 ? 1 : -1) / f;
                } else if (k >= 1 && k <= 8) {
                    SIN[k - 1] = (k % 2 == 0 ? 1 : -1) / f;
                }
            }
        }

        /** cos x for |x| <= pi / 4: the series to x^18 (the next term is below 1e-17). */
        private static double cosSmall(double x) {
            double z = x * x, p = COS[8];
            for (int k = 7; k >= 0; k--) {
                p = COS[k] + z * p;
            }
            return 1 + z * p;
        }

        /** sin x for |x| <= pi / 4: the series to x^17. */
        private static double sinSmall(double x) {
            double z = x * x, p = SIN[7];
            for (int k = 6; k >= 0; k--) {
                p = SIN[k] + z * p;
            }
            return x + x * z * p;
        }
    }

    /** Linear warm-up from base / steps to base over the first {@code steps} steps, then {@code then}. */
    record WarmUp(int steps, LearningRateSchedule then) implements LearningRateSchedule {
        public WarmUp {
            if (steps < 1 || then == null) {
                throw new IllegalArgumentException("warm-up needs at least 1 step and a schedule to follow");
            }
        }

        @Override
        public float rate(float base, long step, int stepsPerEpoch, int epochs) {
            float after = then.rate(base, step, stepsPerEpoch, epochs);
            return step < steps ? (float) ((double) after * (step + 1) / steps) : after;
        }
    }

    static LearningRateSchedule constant() {
        return new Constant();
    }

    static LearningRateSchedule stepDecay(int everyEpochs, float factor) {
        return new StepDecay(everyEpochs, factor);
    }

    static LearningRateSchedule exponential(float gamma) {
        return new Exponential(gamma);
    }

    static LearningRateSchedule cosine(float minFactor) {
        return new Cosine(minFactor);
    }

    static LearningRateSchedule warmUp(int steps, LearningRateSchedule then) {
        return new WarmUp(steps, then);
    }

    /**
     * Parses the command line's spelling: {@code constant}, {@code step:EVERY:FACTOR},
     * {@code exp:GAMMA}, {@code cosine[:MIN_FACTOR]}, each optionally preceded by
     * {@code warmup:STEPS,} (e.g. {@code warmup:500,cosine:0.01}).
     */
    static LearningRateSchedule parse(String text) {
        String s = text.trim();
        try {
            if (s.startsWith("warmup:")) {
                int comma = s.indexOf(',');
                if (comma < 0) {
                    throw new IllegalArgumentException("warmup:STEPS must be followed by ',' and a schedule");
                }
                return warmUp(Integer.parseInt(s.substring(7, comma).trim()), parse(s.substring(comma + 1)));
            }
            String[] p = s.split(":");
            return switch (p[0]) {
                case "constant" -> constant();
                case "step" -> stepDecay(Integer.parseInt(p[1]), Float.parseFloat(p[2]));
                case "exp" -> exponential(Float.parseFloat(p[1]));
                case "cosine" -> cosine(p.length > 1 ? Float.parseFloat(p[1]) : 0f);
                default -> throw new IllegalArgumentException("unknown schedule '" + p[0] + "'");
            };
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("learning-rate schedule '" + text + "': expected constant, step:EVERY:FACTOR, exp:GAMMA,"
                    + " cosine[:MIN] or warmup:STEPS,<schedule>", e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("learning-rate schedule '" + text + "': " + e.getMessage(), e);
        }
    }
}
