package org.latent4j.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.dsl.Json;
import org.latent4j.io.SafeTensors;
import org.latent4j.model.HelmholtzMachine;

/**
 * A Helmholtz machine's training run on disk, as {@link Checkpoint} is a graph model's: the
 * machine (its tensors and spec exactly as in its model file, so the checkpoint also loads as the
 * model), the state of both optimizers (the generative and the recognition group: moments and
 * step counts), and where the run stood ({@link Checkpoint.Progress}: epoch, rows done in it,
 * step, the epoch's running bound sum in {@code reconSum} and its rows in {@code rowsCounted}),
 * the history so far, the recipe, the procedure and the evaluation samples, and a fingerprint of
 * the training data, so that a resume with other settings or data is refused.
 */
public record HelmholtzCheckpoint(HelmholtzMachine model, Group generative, Group recognition, Checkpoint.Progress progress,
                                  List<HelmholtzTrainer.Epoch> history, String recipe, String procedure, int evaluationSamples,
                                  String dataFingerprint) {

    /** One parameter group's optimizer state: its step count and moments (empty arrays when the optimizer keeps none). */
    public record Group(long steps, float[] firstMoment, float[] secondMoment) {
        static Group of(Optimizer o) {
            return new Group(o.steps(), o.firstMoment(), o.secondMoment());
        }
    }

    /** Metadata key of the run state (JSON); the same key as a graph model's checkpoint. */
    public static final String KEY = Checkpoint.KEY;
    static final String GENERATIVE = "generative_optimizer.";
    static final String RECOGNITION = "recognition_optimizer.";
    static final String FIRST = "first_moment", SECOND = "second_moment";

    /** Whether a file's metadata is that of a Helmholtz machine's checkpoint. */
    public static boolean isHelmholtzCheckpoint(Map<String, String> metadata) {
        return metadata.containsKey(KEY) && metadata.containsKey(HelmholtzMachine.SPEC_KEY);
    }

    /** Writes the checkpoint atomically (a reader never sees half a file), readable by {@link #read}. */
    public void write(Path file) throws IOException {
        List<SafeTensors.Entry> tensors = new ArrayList<>(model.tensors());
        for (Object[] g : new Object[][] {{GENERATIVE, generative}, {RECOGNITION, recognition}}) {
            Group s = (Group) g[1];
            if (s.firstMoment().length > 0) {
                tensors.add(new SafeTensors.Entry(g[0] + FIRST, new int[] {s.firstMoment().length}, s.firstMoment(), 0));
            }
            if (s.secondMoment().length > 0) {
                tensors.add(new SafeTensors.Entry(g[0] + SECOND, new int[] {s.secondMoment().length}, s.secondMoment(), 0));
            }
        }
        Map<String, Object> st = new LinkedHashMap<>();
        Checkpoint.Progress p = progress;
        st.put("epoch", p.epoch());
        st.put("position", p.position());
        st.put("step", Long.toString(p.step()));
        st.put("generative_optimizer_steps", Long.toString(generative.steps()));
        st.put("recognition_optimizer_steps", Long.toString(recognition.steps()));
        st.put("bound_sum", Double.toString(p.reconSum()));
        st.put("rows_counted", Long.toString(p.rowsCounted()));
        st.put("seconds", Double.toString(p.seconds()));
        st.put("recipe", recipe);
        st.put("procedure", procedure);
        st.put("evaluation_samples", evaluationSamples);
        st.put("data", dataFingerprint);
        List<Object> h = new ArrayList<>();
        for (HelmholtzTrainer.Epoch e : history) {
            h.add(List.of(e.epoch(), Double.toString(e.trainBound()), Double.toString(e.validationBound()),
                    Double.toString(e.validationLogLikelihood()), e.evaluationSamples(), Double.toString(e.seconds()),
                    Double.toString(e.rowsPerSecond())));
        }
        st.put("history", h);
        // The model file's metadata (as HelmholtzMachine.save writes it) and the run state.
        Map<String, String> md = new LinkedHashMap<>();
        md.put(HelmholtzMachine.SPEC_KEY, model.spec().toJson());
        md.put("format", "pt");
        md.put(KEY, Json.write(st));
        SafeTensors.write(file, md, tensors);
    }

    /**
     * Reads and checks a Helmholtz checkpoint: the machine as {@link HelmholtzMachine#from} checks
     * it, every optimizer tensor's length against its group's parameters and its values finite,
     * the run state's fields and their ranges. Errors name the file and the tensor or field.
     */
    public static HelmholtzCheckpoint read(Path file) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        String json = c.metadata().get(KEY);
        if (json == null) {
            throw new IOException(file + ": not a training checkpoint (no " + KEY + " in the metadata); it may be a plain model file");
        }
        if (!c.metadata().containsKey(HelmholtzMachine.SPEC_KEY)) {
            throw new IOException(file + ": not a Helmholtz machine's checkpoint (no " + HelmholtzMachine.SPEC_KEY + " in the metadata)");
        }
        HelmholtzMachine m = HelmholtzMachine.from(c, file);
        Group g = group(c, file, GENERATIVE, m.generative().length), q = group(c, file, RECOGNITION, m.recognition().length);
        try {
            if (!(Json.parse(json) instanceof Map<?, ?> st)) {
                throw new IllegalArgumentException("the run state must be a JSON object");
            }
            Checkpoint.Progress p = new Checkpoint.Progress(integer(st, "epoch"), integer(st, "position"), Long.parseLong(text(st, "step")),
                    Double.parseDouble(text(st, "bound_sum")), 0, Long.parseLong(text(st, "rows_counted")), 0,
                    Double.parseDouble(text(st, "seconds")), 0);
            if (p.epoch() < 1 || p.position() < 0 || p.step() < 0 || p.rowsCounted() < 0 || p.rowsCounted() > p.position()
                    || !(p.seconds() >= 0) || !Double.isFinite(p.reconSum())) {
                throw new IllegalArgumentException("a field of the progress is out of range: " + p);
            }
            g = new Group(Long.parseLong(text(st, "generative_optimizer_steps")), g.firstMoment(), g.secondMoment());
            q = new Group(Long.parseLong(text(st, "recognition_optimizer_steps")), q.firstMoment(), q.secondMoment());
            if (g.steps() != p.step() || q.steps() != p.step()) {
                throw new IllegalArgumentException("the optimizers took " + g.steps() + " and " + q.steps() + " steps but the run "
                        + p.step() + " (each step updates both groups)");
            }
            int samples = integer(st, "evaluation_samples");
            if (samples < 1 || samples > HelmholtzMachine.MAX_SAMPLES) {
                throw new IllegalArgumentException("evaluation_samples is " + samples);
            }
            if (!(st.get("history") instanceof List<?> hl)) {
                throw new IllegalArgumentException("history must be a list");
            }
            if (hl.size() != p.epoch() - 1) {
                throw new IllegalArgumentException("the history has " + hl.size() + " epochs but the run is in epoch " + p.epoch());
            }
            List<HelmholtzTrainer.Epoch> history = new ArrayList<>();
            for (Object o : hl) {
                if (!(o instanceof List<?> e) || e.size() != 7) {
                    throw new IllegalArgumentException("each history entry must be a list of 7 fields");
                }
                int epoch = whole(e.get(0), "a history entry's epoch");
                if (epoch != history.size() + 1) {
                    throw new IllegalArgumentException("history entry " + (history.size() + 1) + " is of epoch " + epoch);
                }
                history.add(new HelmholtzTrainer.Epoch(epoch, d(e.get(1)), d(e.get(2)), d(e.get(3)),
                        whole(e.get(4), "a history entry's evaluation samples"), d(e.get(5)), d(e.get(6))));
            }
            return new HelmholtzCheckpoint(m, g, q, p, history, text(st, "recipe"), text(st, "procedure"), samples, text(st, "data"));
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            throw new IOException(file + ": damaged run state in " + KEY + ": " + e.getMessage(), e);
        }
    }

    /** A group's moments: each absent (none kept) or one value per parameter of the group, all finite. */
    private static Group group(SafeTensors.Contents c, Path file, String prefix, int n) throws IOException {
        float[][] out = new float[2][];
        String[] names = {prefix + FIRST, prefix + SECOND};
        for (int k = 0; k < 2; k++) {
            SafeTensors.Entry e = c.tensors().get(names[k]);
            if (e == null) {
                out[k] = new float[0];
                continue;
            }
            if (e.shape().length != 1 || e.count() != n) {
                throw new IOException(file + ": tensor " + names[k] + " has shape " + java.util.Arrays.toString(e.shape()) + " but the "
                        + prefix.substring(0, prefix.indexOf('_')) + " group has " + n + " parameters");
            }
            float[] v = new float[n];
            System.arraycopy(e.data(), e.offset(), v, 0, n);
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new IOException(file + ": tensor " + names[k] + " holds " + v[i] + " at element " + i);
                }
            }
            out[k] = v;
        }
        return new Group(0, out[0], out[1]);
    }

    private static double d(Object o) {
        return Double.parseDouble((String) o);
    }

    private static int whole(Object o, String what) {
        if (!(o instanceof Double d) || d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " is not an integer");
        }
        return d.intValue();
    }

    private static String text(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof String s)) {
            throw new IllegalArgumentException(key + " is missing or not a string");
        }
        return s;
    }

    private static int integer(Map<?, ?> m, String key) {
        return whole(m.get(key), key);
    }
}
