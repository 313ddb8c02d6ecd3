package org.latent4j.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.Json;
import org.latent4j.dsl.ModelSpec;
import org.latent4j.graph.Graph;
import org.latent4j.io.SafeTensors;
import org.latent4j.model.Autoencoder;

/**
 * A training run's state on disk: the model (tensors and spec exactly as in a model file, so a
 * checkpoint also loads as a model), the optimizer's moments and step count, and where the run
 * stood (epoch, rows done in it, step, the epoch's partial loss sums, the history so far), with
 * the training recipe and a fingerprint of the data so a resume on other data or another recipe
 * is refused instead of silently giving other weights.
 */
public record Checkpoint(ModelSpec spec, float[] params, long optimizerSteps, float[] firstMoment, float[] secondMoment,
                         Progress progress, List<EpochStats> history, String recipe, String dataFingerprint, Early early) {

    /** Early stopping's state: the best validation -ELBO so far, its epoch and weights, and whether the run stopped. */
    public record Early(double bestValue, int bestEpoch, boolean stopped, float[] bestParams) {}

    static final String BEST = "early_stopping.best_weights";

    /** Metadata key of the run state (JSON); its presence marks a file as a checkpoint. */
    public static final String KEY = Autoencoder.CHECKPOINT_KEY;
    static final String FIRST = "optimizer.first_moment";
    static final String SECOND = "optimizer.second_moment";

    /**
     * Where a run stands: the epoch under way (1-based), the rows of it done, the optimizer steps
     * taken in all, and the epoch's sums so far (to report the same means as an unbroken run).
     */
    public record Progress(int epoch, int position, long step, double reconSum, double klSum, long rowsCounted,
                           int skipped, double seconds, double penaltySum) {}

    /**
     * Writes the checkpoint to {@code file} atomically (the model's tensors and spec, the
     * optimizer's moments, the run state in the metadata), readable by {@link #read}.
     */
    public void write(Path file) throws IOException {
        write(file, Graph.build(spec).fuse());
    }

    void write(Path file, Graph graph) throws IOException {
        List<SafeTensors.Entry> entries = new ArrayList<>();
        if (firstMoment.length > 0) {
            entries.add(new SafeTensors.Entry(FIRST, new int[] {firstMoment.length}, firstMoment, 0));
        }
        if (secondMoment.length > 0) {
            entries.add(new SafeTensors.Entry(SECOND, new int[] {secondMoment.length}, secondMoment, 0));
        }
        if (early != null) {
            entries.add(new SafeTensors.Entry(BEST, new int[] {early.bestParams().length}, early.bestParams(), 0));
        }
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("epoch", progress.epoch());
        state.put("position", progress.position());
        state.put("step", Long.toString(progress.step()));
        state.put("optimizer_steps", Long.toString(optimizerSteps));
        state.put("recon_sum", Double.toString(progress.reconSum()));
        state.put("kl_sum", Double.toString(progress.klSum()));
        state.put("rows_counted", Long.toString(progress.rowsCounted()));
        state.put("skipped", progress.skipped());
        state.put("seconds", Double.toString(progress.seconds()));
        state.put("penalty_sum", Double.toString(progress.penaltySum()));
        state.put("recipe", recipe);
        state.put("data", dataFingerprint);
        List<Object> h = new ArrayList<>();
        for (EpochStats s : history) {
            List<Object> klDims = new ArrayList<>();
            for (double k : s.klPerDimension()) {
                klDims.add(str(k));
            }
            h.add(List.of(s.epoch(), str(s.trainReconstruction()), str(s.trainKl()), str(s.trainNegElbo()),
                    str(s.validationReconstruction()), str(s.validationKl()), str(s.validationNegElbo()),
                    str(s.seconds()), str(s.samplesPerSecond()), s.skippedBatches(), str(s.trainPenalty()), klDims, s.activeUnits()));
        }
        state.put("history", h);
        if (early != null) {
            state.put("early_stopping", Map.of("best_value", str(early.bestValue()), "best_epoch", early.bestEpoch(),
                    "stopped", early.stopped()));
        }
        Autoencoder.write(file, spec, graph, params, Map.of(KEY, Json.write(state)), entries);
    }

    private static String str(double d) {
        return Double.toString(d);
    }

    /** Reads and checks a checkpoint; errors name the file and the field. */
    public static Checkpoint read(Path file) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        String json = c.metadata().get(KEY);
        if (json == null) {
            throw new IOException(file + ": not a training checkpoint (no " + KEY + " in the metadata); it may be a plain model file");
        }
        if (c.metadata().containsKey(org.latent4j.model.HelmholtzMachine.SPEC_KEY)) {
            throw new IOException(file + ": a Helmholtz machine's checkpoint, not a graph model's: HelmholtzCheckpoint.read and"
                    + " HelmholtzTrainer.resume take it");
        }
        Autoencoder model = Autoencoder.from(c, file);
        try {
            if (!(Json.parse(json) instanceof Map<?, ?> st)) {
                throw new IllegalArgumentException("the run state must be a JSON object");
            }
            int n = model.parameters().length, trained = model.graph().trainableCount();
            float[] m = moment(c, FIRST, trained), v = moment(c, SECOND, trained);  // the optimizer keeps moments of the trained tensors only
            Progress p = new Progress(integer(st, "epoch"), integer(st, "position"), Long.parseLong(text(st, "step")),
                    Double.parseDouble(text(st, "recon_sum")), Double.parseDouble(text(st, "kl_sum")),
                    Long.parseLong(text(st, "rows_counted")), integer(st, "skipped"), Double.parseDouble(text(st, "seconds")),
                    st.containsKey("penalty_sum") ? Double.parseDouble(text(st, "penalty_sum")) : 0);
            if (p.epoch() < 1 || p.position() < 0 || p.step() < 0 || p.skipped() < 0 || p.rowsCounted() < 0
                    || !(p.seconds() >= 0) || !Double.isFinite(p.reconSum()) || !Double.isFinite(p.klSum())
                    || !Double.isFinite(p.penaltySum())) {
                throw new IllegalArgumentException("a field of the progress is out of range: " + p);
            }
            List<EpochStats> history = new ArrayList<>();
            if (!(st.get("history") instanceof List<?> hl)) {
                throw new IllegalArgumentException("history must be a list");
            }
            for (Object o : hl) {
                // 13 fields; a checkpoint of an earlier latent4j has the first 10.
                if (!(o instanceof List<?> e) || (e.size() != 13 && e.size() != 10) || (e.size() == 13 && !(e.get(11) instanceof List<?>))) {
                    throw new IllegalArgumentException("each history entry must be a list of 13 fields, the 12th a list");
                }
                if (e.size() == 10) {
                    history.add(new EpochStats(((Double) e.get(0)).intValue(), d(e.get(1)), d(e.get(2)), d(e.get(3)), d(e.get(4)),
                            d(e.get(5)), d(e.get(6)), d(e.get(7)), d(e.get(8)), ((Double) e.get(9)).intValue()));
                    continue;
                }
                List<?> kd = (List<?>) e.get(11);
                double[] klDims = new double[kd.size()];
                for (int j = 0; j < klDims.length; j++) {
                    klDims[j] = d(kd.get(j));
                }
                history.add(new EpochStats(((Double) e.get(0)).intValue(), d(e.get(1)), d(e.get(2)), d(e.get(3)), d(e.get(4)),
                        d(e.get(5)), d(e.get(6)), d(e.get(7)), d(e.get(8)), ((Double) e.get(9)).intValue(), d(e.get(10)), klDims,
                        ((Double) e.get(12)).intValue()));
            }
            long optimizerSteps = Long.parseLong(text(st, "optimizer_steps"));
            if (optimizerSteps < 0) {
                throw new IllegalArgumentException("optimizer_steps is negative");
            }
            Early early = null;
            if (st.get("early_stopping") instanceof Map<?, ?> es) {
                float[] best = moment(c, BEST, n);
                if (best.length != n || !(es.get("stopped") instanceof Boolean stopped)) {
                    throw new IllegalArgumentException("early stopping needs " + BEST + " of " + n + " values and a stopped flag");
                }
                early = new Early(Double.parseDouble(text(es, "best_value")), integer(es, "best_epoch"), stopped, best);
            }
            return new Checkpoint(model.spec(), model.parameters(), optimizerSteps, m, v, p, history, text(st, "recipe"), text(st, "data"),
                    early);
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            throw new IOException(file + ": damaged run state in " + KEY + ": " + e.getMessage(), e);
        }
    }

    private static float[] moment(SafeTensors.Contents c, String name, int n) {
        SafeTensors.Entry e = c.tensors().get(name);
        if (e == null) {
            return new float[0];
        }
        if (e.count() != n) {
            throw new IllegalArgumentException(name + " has " + e.count() + " values but needs " + n);
        }
        return e.data();
    }

    private static double d(Object o) {
        return Double.parseDouble((String) o);
    }

    private static String text(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof String s)) {
            throw new IllegalArgumentException(key + " is missing or not a string");
        }
        return s;
    }

    private static int integer(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof Double d) || d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(key + " is missing or not an integer");
        }
        return d.intValue();
    }

    /**
     * A fingerprint of a data set (shape and every value's bits, and its context vectors when it
     * has them), to refuse resuming on other data. (Labels are not in it, so that checkpoints
     * written before keep resuming.)
     */
    static String fingerprint(Dataset d) {
        String f = d.rows() + "x" + d.features() + ":" + Long.toHexString(hash(d.x()));
        return d.context() == null ? f : f + "+context" + d.contextWidth() + ":" + Long.toHexString(hash(d.context()));
    }

    private static long hash(float[] x) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < x.length; i++) {
            h = (h ^ Float.floatToRawIntBits(x[i])) * 0x100000001b3L;
        }
        return h;
    }
}
