package org.latent4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;
import org.latent4j.dsl.Json;
import org.latent4j.kernel.Shape;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.LatentModel;
import org.latent4j.model.Models;
import org.latent4j.train.Checkpoint;
import org.latent4j.train.EpochStats;

/**
 * What the run page shows, read from a run folder that {@code train} or {@code demo} writes (or
 * is writing): the per-epoch history from metrics.json once the run has finished, else from
 * checkpoint.safetensors, which training replaces atomically after every epoch (so the page
 * follows a run while it trains); and reconstructions of the first {@link #ROWS} held-out rows by
 * the model of the latest epoch (model.safetensors when finished, else the checkpoint, which
 * loads as a model). Only the three files named here are read in the folder, each again only
 * when its modification time or size changed.
 */
final class RunView {
    /** Rows whose reconstructions the page shows. */
    static final int ROWS = 8;

    private final Path dir;
    private final Path data;
    private final SharedOptions.Columns columns;
    private final Integer plannedEpochs;

    private String checkpointKey = "", modelKey = "", metricsKey = "";
    private Map<?, ?> metrics;
    private Checkpoint checkpoint;
    private Map<String, Object> reconstructions;
    private float[][] rows;
    private Shape rowShape;
    private String rowsProblem;

    /**
     * A view of the run in {@code dir}; {@code data} is the data the run trained on (null: the one
     * metrics.json names, else the bundled Fashion-MNIST slice), read for the rows to reconstruct;
     * {@code plannedEpochs} the run's epoch count when known (train --view), else null.
     */
    RunView(Path dir, Path data, SharedOptions.Columns columns, Integer plannedEpochs) {
        this.dir = dir;
        this.data = data;
        this.columns = columns;
        this.plannedEpochs = plannedEpochs;
    }

    /** A file's key for "has it changed": modification time and size, or "" when it is missing. */
    private static String key(Path f) {
        try {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            return a.isRegularFile() ? a.lastModifiedTime().toMillis() + ":" + a.size() : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** metrics.json parsed, read again only when the file changed; null while it does not exist. */
    private Map<?, ?> metrics() throws IOException {
        Path f = dir.resolve("metrics.json");
        String k = key(f);
        if (k.isEmpty()) {
            return null;
        }
        if (k.equals(metricsKey)) {
            return metrics;
        }
        if (Files.size(f) > 64 << 20) {
            throw new IOException(f + ": larger than 64 MB; not a run's metrics");
        }
        String text = Files.readString(f);
        try {
            metrics = Json.parse(text) instanceof Map<?, ?> m ? m : null;
            metricsKey = k;
            return metrics;
        } catch (IllegalArgumentException e) {
            throw new IOException(f + ": not JSON (" + e.getMessage() + ")");
        }
    }

    /** The checkpoint, read again only when the file changed; the last good one while it is being replaced. */
    private Checkpoint checkpoint() {
        Path f = dir.resolve("checkpoint.safetensors");
        String k = key(f);
        if (k.isEmpty()) {
            return null;
        }
        if (!k.equals(checkpointKey)) {
            try {
                checkpoint = Checkpoint.read(f);
                checkpointKey = k;
            } catch (IOException | RuntimeException e) {
                // Replaced between our look and our read, or damaged: keep what we had.
            }
        }
        return checkpoint;
    }

    /** The entries of metrics.json's history for each epoch of a checkpoint (the same keys TrainRun writes). */
    static List<Object> history(List<EpochStats> stats) {
        List<Object> h = new ArrayList<>();
        for (EpochStats s : stats) {
            h.add(TrainRun.historyEntry(s));
        }
        return h;
    }

    /**
     * The run as the page polls it: status ("finished" with metrics.json, "training" with a
     * checkpoint only, "waiting" before the first epoch ends), the planned epochs when known, and
     * the history (one map per epoch: the loss terms, and for a VAE kl_per_dimension and
     * active_units).
     */
    synchronized Map<String, Object> state() throws IOException {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("run", dir.toAbsolutePath().normalize().getFileName() == null ? dir.toString()
                : dir.toAbsolutePath().normalize().getFileName().toString());
        Map<?, ?> m = metrics();
        if (m != null) {
            s.put("status", "finished");
            s.put("epochs_planned", m.get("epochs"));
            s.put("history", withQuantizer(m.get("history") instanceof List<?> l ? l : List.of(), m.get("quantizer")));
            for (String k : new String[] {"command", "data", "likelihood", "seconds", "best_epoch", "test_neg_elbo"}) {
                if (m.containsKey(k)) {
                    s.put(k, m.get(k));
                }
            }
            return s;
        }
        Checkpoint c = checkpoint();
        s.put("status", c == null ? "waiting" : "training");
        s.put("epochs_planned", plannedEpochs);
        s.put("history", c == null ? List.of() : withQuantizer(history(c.history()), quantizer()));
        return s;
    }

    /** The health figures a discrete latent's run adds to each epoch (metrics.json's "quantizer", quantizer.json). */
    static final String[] QUANTIZER_KEYS = {"codes_used", "used_fraction", "perplexity", "revived", "codebook_loss", "commitment_loss"};

    /**
     * The history with each epoch's codebook health (entries of {@code quantizer} with the same
     * "epoch") added as more numbers: the page draws a curve for every number it finds. Epochs
     * without health, and a quantizer list that is missing or not a list, leave the history as it is.
     */
    static List<Object> withQuantizer(List<?> history, Object quantizer) {
        Map<Object, Map<?, ?>> byEpoch = new java.util.HashMap<>();
        if (quantizer instanceof List<?> q) {
            for (Object o : q) {
                if (o instanceof Map<?, ?> e && e.get("epoch") instanceof Number n) {
                    byEpoch.put(n.intValue(), e);
                }
            }
        }
        List<Object> out = new ArrayList<>(history.size());
        for (Object o : history) {
            Map<?, ?> health = o instanceof Map<?, ?> e && e.get("epoch") instanceof Number n ? byEpoch.get(n.intValue()) : null;
            if (health == null) {
                out.add(o);
                continue;
            }
            Map<Object, Object> merged = new LinkedHashMap<>((Map<?, ?>) o);
            for (String k : QUANTIZER_KEYS) {
                if (health.get(k) instanceof Number v) {
                    merged.put(k, v);
                }
            }
            out.add(merged);
        }
        return out;
    }

    /** quantizer.json (a run of a discrete latent writes it after every epoch), parsed; null when missing or being replaced. */
    private Object quantizer() {
        Path f = dir.resolve("quantizer.json");
        try {
            if (key(f).isEmpty() || Files.size(f) > 16 << 20) {
                return null;
            }
            return Json.parse(Files.readString(f));
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Inputs and reconstructions of the first {@link #ROWS} held-out rows by the model of the
     * latest epoch: {epoch, width, height (0 for rows that are no image), inputs, outputs}; or
     * {message} saying why there are none yet.
     */
    synchronized Map<String, Object> reconstructions() throws IOException {
        boolean finished = !key(dir.resolve("metrics.json")).isEmpty();
        Path file = dir.resolve(finished ? "model.safetensors" : "checkpoint.safetensors");
        String k = file + "@" + key(file);
        if (key(file).isEmpty()) {
            return Map.of("message", "no model yet: the first epoch has not ended");
        }
        if (k.equals(modelKey) && reconstructions != null) {
            return reconstructions;
        }
        LatentModel model;
        int epoch;
        try {
            model = Models.load(file);
            Checkpoint c = finished ? null : checkpoint();
            Map<?, ?> m = finished ? metrics() : null;
            epoch = c != null ? c.history().size()
                    : m != null && m.get("history") instanceof List<?> l ? l.size() : 0;
        } catch (IOException | RuntimeException e) {
            return reconstructions != null ? reconstructions : Map.of("message", "the model file is being written; trying again");
        }
        if (model instanceof Autoencoder ae && ae.spec().isConditional()) {
            return Map.of("message", "a conditional model: the page does not reconstruct its rows");
        }
        float[][] x = rows(model);
        if (x == null) {
            return Map.of("message", rowsProblem);
        }
        float[][] r = model.reconstruct(x);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("epoch", epoch);
        out.put("width", rowShape == null ? 0 : rowShape.width());
        out.put("height", rowShape == null ? 0 : rowShape.height());
        out.put("inputs", LatentView.rowsJson(x));
        out.put("outputs", LatentView.rowsJson(r));
        reconstructions = out;
        modelKey = k;
        return out;
    }

    /** The first rows of the held-out data (read once), or null with {@link #rowsProblem} set. */
    private float[][] rows(LatentModel model) throws IOException {
        if (rows != null || rowsProblem != null) {
            return rows;
        }
        Dataset d;
        try {
            Path from = data;
            if (from == null) {
                Map<?, ?> m = metrics();
                if (m != null && m.get("data") instanceof String s && !s.startsWith("bundled") && Files.exists(Path.of(s))) {
                    from = Path.of(s);
                }
            }
            d = from == null ? FashionMnist.bundledTest() : columns.read(from, true).data();
        } catch (IOException | RuntimeException e) {
            rowsProblem = "no rows to reconstruct: " + e.getMessage() + " (give view --data)";
            return null;
        }
        if (d.features() != model.inputDim()) {
            rowsProblem = "no rows to reconstruct: " + d.source() + " has " + d.features() + " features but the model takes "
                    + model.inputDim() + " (give view --data with the run's data, and --label-column/--id-column as in training)";
            return null;
        }
        float[][] x = new float[Math.min(ROWS, d.rows())][];
        for (int i = 0; i < x.length; i++) {
            x[i] = d.row(i);
        }
        rowShape = UseCommands.pictureShape(model, d);
        rows = x;
        return rows;
    }
}
