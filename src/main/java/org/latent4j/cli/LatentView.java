package org.latent4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.data.Dataset;
import org.latent4j.io.SafeTensors;
import org.latent4j.kernel.Parallelism;
import org.latent4j.kernel.Shape;
import org.latent4j.linear.Pca;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.LatentModel;
import org.latent4j.model.Models;

/**
 * The latent explorer's side in the JVM: a model (any latent4j model file; an anomaly detector
 * file adds scores, its threshold and per-feature contributions), the codes of the data's rows
 * and their 2-D map, and the decoding the page asks for.
 *
 * <p>The map: for a 2-d latent the codes themselves; else their coordinates along the first two
 * principal components of the codes (centered on the codes' mean m, not whitened), so a point
 * (u, v) of the map stands for the code z = m + u c1 + v c2 (c1, c2 the unit components), which
 * the page computes from {@link #info()}'s projection and sends to {@link #decode}; a 1-d latent
 * maps to (z, 0). Without data the map is the first two latent dimensions, the others 0.
 */
final class LatentView {
    /** Most codes one decode request may carry (an interpolation strip, a batch of drags). */
    static final int MAX_CODES = 64;
    /** Most steps of an interpolation strip. */
    static final int MAX_STEPS = 32;

    final LatentModel model;
    final AnomalyDetector detector;
    final float[][] rows;
    final int[] labels;
    final String[] classNames;
    final float[][] codes;
    final float[][] points;
    final Pca pca;
    final Shape image;
    final String source;
    final String[] featureNames;
    private final double[] scores;
    private final String how;

    /**
     * Opens a model file for exploring; data rows (may be null) in the data's own units with
     * labels (may be null), at most {@code maxRows} of them used.
     */
    static LatentView open(Path modelFile, Dataset data, int[] labels, String[] classNames, String[] featureNames, int maxRows)
            throws IOException {
        if (modelFile == null || !Files.isRegularFile(modelFile)) {
            throw new IllegalArgumentException("--model " + modelFile + ": no such file");
        }
        SafeTensors.Contents c = SafeTensors.read(modelFile);
        LatentModel m = Models.from(c, modelFile);
        AnomalyDetector d = AnomalyDetector.from(c, modelFile);
        return new LatentView(m, d, data, labels, classNames, featureNames, maxRows, modelFile.getFileName().toString());
    }

    LatentView(LatentModel model, AnomalyDetector detector, Dataset data, int[] labels, String[] classNames, String[] featureNames,
               int maxRows, String source) {
        if (model instanceof Autoencoder ae && ae.spec().isConditional()) {
            throw new IllegalArgumentException(source + " is a conditional model (" + ae.conditionDim() + " condition values per row);"
                    + " the explorer does not take conditions yet");
        }
        if (maxRows < 1) {
            throw new IllegalArgumentException("--rows must be positive, got " + maxRows);
        }
        this.model = model;
        this.detector = detector;
        this.source = source;
        this.classNames = classNames;
        this.featureNames = featureNames != null && featureNames.length == model.inputDim() ? featureNames : null;
        if (data != null && data.features() != model.inputDim()) {
            throw new IllegalArgumentException(data.source() + " has " + data.features() + " features per row but the model takes "
                    + model.inputDim());
        }
        int n = data == null ? 0 : Math.min(maxRows, data.rows());
        rows = new float[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = data.row(i);
        }
        if (labels != null && labels.length < n) {
            throw new IllegalArgumentException("the labels have " + labels.length + " rows but the data has " + n);
        }
        this.labels = labels == null ? null : java.util.Arrays.copyOf(labels, n);
        image = UseCommands.pictureShape(model, data);
        codes = n == 0 ? new float[0][] : model.encode(rows);
        int dim = model.latentDim();
        if (dim > 2 && n >= 2) {
            float[] flat = new float[n * dim];
            for (int r = 0; r < n; r++) {
                System.arraycopy(codes[r], 0, flat, r * dim, dim);
            }
            pca = Pca.fit(new Dataset(flat, n, dim, null, "latent codes"), 2, Parallelism.serial());
            points = pca.transform(codes, false);
            double[] ratio = pca.explainedVarianceRatio();
            how = String.format(java.util.Locale.ROOT, "the first two principal components of the %d-d codes (%.0f%% of their variance)",
                    dim, 100 * (ratio[0] + ratio[1]));
        } else {
            pca = null;
            points = new float[n][2];
            for (int r = 0; r < n; r++) {
                points[r][0] = codes[r][0];
                points[r][1] = dim > 1 ? codes[r][1] : 0;
            }
            how = dim == 1 ? "the one latent dimension" : dim == 2 ? "the two latent dimensions"
                    : "latent dimensions 1 and 2, the others 0 (no data to project)";
        }
        scores = detector != null && n > 0 ? detector.score(rows) : null;
        // The JIT compiles the decoder now rather than on the first click (its first decodes take tens of ms).
        float[][] warm = n > 0 ? java.util.Arrays.copyOf(codes, Math.min(n, 16)) : new float[][] {new float[dim]};
        for (int i = 0; i < 20; i++) {
            model.decode(warm);
            model.decode(new float[][] {warm[i % warm.length]});
        }
    }

    /** The code a map point stands for: m + u c1 + v c2 with a projection, else (u, v, 0, ...). */
    float[] codeAt(double u, double v) {
        int dim = model.latentDim();
        if (pca != null) {
            return pca.inverseTransform(new float[][] {{(float) u, (float) v}}, false)[0];
        }
        float[] z = new float[dim];
        z[0] = (float) u;
        if (dim > 1) {
            z[1] = (float) v;
        }
        return z;
    }

    /** Everything the page draws the map from: sizes, the projection, the points, labels, scores. */
    Map<String, Object> info() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("model", source);
        o.put("kind", model.kind());
        o.put("input_dim", model.inputDim());
        o.put("latent_dim", model.latentDim());
        o.put("width", image == null ? 0 : image.width());
        o.put("height", image == null ? 0 : image.height());
        o.put("projection", how);
        o.put("x_axis", pca != null ? "principal component 1" : "latent dimension 1");
        o.put("y_axis", pca != null ? "principal component 2" : model.latentDim() > 1 ? "latent dimension 2" : "(none)");
        if (pca != null) {
            o.put("mean", floats(pca.mean()));
            o.put("components", List.of(pca.component(0), pca.component(1)));
        }
        o.put("points", rowsJson(points));
        if (labels != null) {
            List<Object> l = new ArrayList<>();
            for (int v : labels) {
                l.add(v);
            }
            o.put("labels", l);
        }
        if (classNames != null) {
            o.put("class_names", List.of(classNames));
        }
        if (featureNames != null) {
            o.put("feature_names", List.of(featureNames));
        }
        // The range the page maps to grey or bar length: [0, 1] for data within it, else the data's.
        double lo = 0, hi = 1;
        for (float[] r : rows) {
            for (float v : r) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        o.put("value_min", lo);
        o.put("value_max", hi);
        if (detector != null) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("score", detector.scoreKind().name().toLowerCase(java.util.Locale.ROOT));
            d.put("threshold", detector.threshold());
            o.put("detector", d);
            if (scores != null) {
                o.put("scores", scores);
            }
        }
        return o;
    }

    /** The body's "codes": 1 to {@link #MAX_CODES} lists of latentDim finite numbers. */
    float[][] codes(Map<?, ?> body, String key) {
        if (!(body.get(key) instanceof List<?> list) || list.isEmpty() || list.size() > MAX_CODES) {
            throw new IllegalArgumentException("'" + key + "' must be a list of 1 to " + MAX_CODES + " codes");
        }
        float[][] z = new float[list.size()][];
        for (int i = 0; i < z.length; i++) {
            z[i] = code(list.get(i), key + "[" + i + "]");
        }
        return z;
    }

    /** One code: a list of latentDim finite numbers, each within +-1e6. */
    float[] code(Object o, String name) {
        int dim = model.latentDim();
        if (!(o instanceof List<?> l) || l.size() != dim) {
            throw new IllegalArgumentException(name + " must be a list of " + dim + " numbers (the model's latent dimensions), got "
                    + (o instanceof List<?> l2 ? l2.size() + " values" : "no list"));
        }
        float[] z = new float[dim];
        for (int j = 0; j < dim; j++) {
            if (!(l.get(j) instanceof Double v) || !Double.isFinite(v) || Math.abs(v) > 1e6) {
                throw new IllegalArgumentException(name + "[" + j + "] must be a finite number within +-1e6, got " + l.get(j));
            }
            z[j] = (float) (double) v;
        }
        return z;
    }

    /** POST /api/decode {"codes": [[...], ...]}: one batched decode; {outputs, decode_ms}. */
    Map<String, Object> decode(Map<?, ?> body) {
        float[][] z = codes(body, "codes");
        long t0 = System.nanoTime();
        float[][] x = model.decode(z);
        double ms = (System.nanoTime() - t0) / 1e6;
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("outputs", rowsJson(x));
        o.put("decode_ms", ms);
        return o;
    }

    /**
     * POST /api/interpolate {"a": code, "b": code, "steps": k, "how": "linear"|"spherical"}: the
     * k codes of {@link LatentModel#interpolateCodes} from a to b, decoded in one batch.
     */
    Map<String, Object> interpolate(Map<?, ?> body) {
        float[] a = code(body.get("a"), "a"), b = code(body.get("b"), "b");
        int steps = body.get("steps") instanceof Double d && d == Math.rint(d) && d >= 2 && d <= MAX_STEPS ? d.intValue() : -1;
        if (steps < 0) {
            throw new IllegalArgumentException("'steps' must be a whole number from 2 to " + MAX_STEPS + ", got " + body.get("steps"));
        }
        Object h = body.get("how");
        LatentModel.Interpolation how = h == null || "linear".equals(h) ? LatentModel.Interpolation.LINEAR
                : "spherical".equals(h) ? LatentModel.Interpolation.SPHERICAL : null;
        if (how == null) {
            throw new IllegalArgumentException("'how' must be linear or spherical, got " + h);
        }
        float[][] z = LatentModel.interpolateCodes(a, b, steps, how);
        long t0 = System.nanoTime();
        float[][] x = model.decode(z);
        double ms = (System.nanoTime() - t0) / 1e6;
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("codes", rowsJson(z));
        o.put("outputs", rowsJson(x));
        o.put("decode_ms", ms);
        return o;
    }

    /** GET /api/row?i=: a data row, its code and label, and for a detector its score and per-feature contributions. */
    Map<String, Object> row(int i) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("row", i);
        o.put("input", floats(rows[i]));
        o.put("code", floats(codes[i]));
        if (labels != null) {
            o.put("label", labels[i]);
        }
        if (detector != null) {
            o.put("score", scores[i]);
            o.put("contributions", detector.contributions(new float[][] {rows[i]})[0]);
        }
        return o;
    }

    int rowCount() {
        return rows.length;
    }

    static List<Object> rowsJson(float[][] x) {
        List<Object> l = new ArrayList<>(x.length);
        for (float[] r : x) {
            l.add(floats(r));
        }
        return l;
    }

    /** A float row as JSON numbers (each float's shortest decimal, so the page reads back the same float). */
    static List<Object> floats(float[] r) {
        List<Object> l = new ArrayList<>(r.length);
        for (float v : r) {
            l.add(Float.isFinite(v) ? (Object) v : null);
        }
        return l;
    }
}
