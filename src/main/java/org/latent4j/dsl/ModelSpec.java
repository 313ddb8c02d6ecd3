package org.latent4j.dsl;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.latent4j.kernel.Activation;
import org.latent4j.kernel.Shape;

/**
 * An immutable description of a model: what the DSL builds, what a model file stores (as JSON),
 * and what the graph compiler reads. {@code inputDim} 0 means "taken from the data".
 */
public record ModelSpec(int inputDim, List<LayerSpec> encoder, LatentSpec latent, List<LayerSpec> decoder,
                        LikelihoodSpec likelihood, int conditionDim, Shape inputShape) {
    public static final String FORMAT = "latent4j-model";
    public static final int VERSION = 1;

    /** An unconditional model. */
    public ModelSpec(int inputDim, List<LayerSpec> encoder, LatentSpec latent, List<LayerSpec> decoder, LikelihoodSpec likelihood) {
        this(inputDim, encoder, latent, decoder, likelihood, 0);
    }

    /** A model on feature vectors ({@code inputShape} null). */
    public ModelSpec(int inputDim, List<LayerSpec> encoder, LatentSpec latent, List<LayerSpec> decoder, LikelihoodSpec likelihood,
                     int conditionDim) {
        this(inputDim, encoder, latent, decoder, likelihood, conditionDim, null);
    }

    public ModelSpec {
        if (conditionDim < 0) {
            throw new IllegalArgumentException("condition width must not be negative, got " + conditionDim);
        }
        if (inputDim < 0) {
            throw new IllegalArgumentException("input width must be positive (or 0: from the data), got " + inputDim);
        }
        if (latent == null || likelihood == null) {
            throw new IllegalArgumentException("a model needs a latent and a likelihood");
        }
        if (conditionDim > 0 && (latent instanceof LatentSpec.VectorQuantized || latent instanceof LatentSpec.FiniteScalar)) {
            throw new IllegalArgumentException("a conditional model with a discrete latent (" + latent.kindName() + ") is not supported yet");
        }
        encoder = List.copyOf(encoder);
        decoder = List.copyOf(decoder);
        if (inputShape != null) {
            if (!inputShape.spatial()) {
                inputShape = null; // a feature vector is the default
            } else if (inputDim != 0 && inputShape.size() != inputDim) {
                throw new IllegalArgumentException("input shape " + inputShape + " has " + inputShape.size() + " values but the input width is "
                        + inputDim);
            }
        }
    }

    /** The shape of one input sample: the image shape when given, else a vector of inputDim features. */
    public Shape sampleShape() {
        return inputShape != null ? inputShape : Shape.features(inputDim);
    }

    /**
     * True for a conditional model: a condition vector joins the encoder's input (an image's as
     * constant planes, one per condition value) and the latent code.
     */
    public boolean isConditional() {
        return conditionDim > 0;
    }

    public boolean isVariational() {
        return latent instanceof LatentSpec.Gaussian;
    }

    /** True for a discrete latent (vector quantized or finite scalar quantized): no KL term, code indices instead of z. */
    public boolean hasDiscreteLatent() {
        return latent instanceof LatentSpec.VectorQuantized || latent instanceof LatentSpec.FiniteScalar;
    }

    /** The same spec with the input width fixed (from the data). */
    public ModelSpec withInputDim(int dim) {
        if (dim <= 0) {
            throw new IllegalArgumentException("input width must be positive, got " + dim);
        }
        if (inputDim != 0 && inputDim != dim) {
            throw new IllegalArgumentException("the model takes " + inputDim + " input features but the data has " + dim);
        }
        return new ModelSpec(dim, encoder, latent, decoder, likelihood, conditionDim, inputShape);
    }

    /** Output width of the decoder's last dense layer (0 when it has none). */
    public int decoderOutputDim() {
        int w = 0;
        for (LayerSpec l : decoder) {
            if (l instanceof LayerSpec.Dense d) {
                w = d.units();
            }
        }
        return w;
    }

    /** A table of layers, output shapes and parameter counts; needs a known input width. Errors name the layer and both shapes. */
    public String summary() {
        if (inputDim == 0) {
            return "model with input width taken from the data (summary after compile)";
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-50s %-18s %12s%n", "layer", "output", "parameters"));
        Shape in = sampleShape();
        sb.append(row("input", in, 0));
        Shape w = in;
        if (isConditional()) {
            w = in.spatial() ? Shape.image(in.channels() + conditionDim, in.height(), in.width()) : Shape.features(inputDim + conditionDim);
            sb.append(row(in.spatial() ? "joined with condition (" + conditionDim + " planes)" : "joined with condition", w, 0));
        }
        long[] total = {0};
        w = rows(sb, "encoder", encoder, w, total);
        int z = latent.dim();
        if (w.spatial() && (latent instanceof LatentSpec.Deterministic || latent instanceof LatentSpec.Gaussian)) {
            throw new IllegalArgumentException("the latent layer takes a feature vector but the encoder ends with " + w + " (put flatten() before it)");
        }
        Shape zs = w.spatial() ? Shape.image(z, w.height(), w.width()) : Shape.features(z);
        long p = w.spatial() ? (long) w.channels() * z + z : (long) w.size() * z + z;
        String project = "quantizer.project " + (w.spatial() ? "conv2d(" + z + ", 1)" : "dense(" + z + ")");
        switch (latent) {
            case LatentSpec.VectorQuantized v -> {
                int look = v.lookupDim();
                Shape ls = w.spatial() ? Shape.image(look, w.height(), w.width()) : Shape.features(look);
                long pin = w.spatial() ? (long) w.channels() * look + look : (long) w.size() * look + look;
                sb.append(row("quantizer.project " + (w.spatial() ? "conv2d(" + look + ", 1)" : "dense(" + look + ")"), ls, pin));
                long book = (long) v.codes() * look;
                sb.append(row("quantizer vector_quantize(" + v.codes() + " codes" + (v.ema() ? ", ema " + v.decay() : ", by gradient")
                        + (v.cosine() ? ", cosine" : "") + (v.kmeansIterations() > 0 ? ", k-means init" : "") + ")", ls, v.ema() ? 0 : book));
                total[0] += pin + (v.ema() ? 0 : book);
                if (v.codebookDim() > 0) {
                    long pout = (long) look * z + z;
                    sb.append(row("quantizer.project_out " + (w.spatial() ? "conv2d(" + z + ", 1)" : "dense(" + z + ")"), zs, pout));
                    total[0] += pout;
                }
            }
            case LatentSpec.FiniteScalar f -> {
                sb.append(row(project, zs, p));
                sb.append(row("quantizer fsq(" + f.levels() + ", " + f.codes() + " codes)", zs, 0));
                total[0] += p;
            }
            case LatentSpec.Gaussian _ -> {
                sb.append(row("fc_mu dense(" + z + ")", zs, p));
                sb.append(row("fc_logvar dense(" + z + ")", zs, p));
                sb.append(row("z = mu + exp(logvar/2) eps", zs, 0));
                total[0] += 2 * p;
            }
            case LatentSpec.Deterministic det -> {
                sb.append(row("latent dense(" + z + ")" + (det.activation() == Activation.IDENTITY ? ""
                        : " " + det.activation().name().toLowerCase(Locale.ROOT)), zs, p));
                total[0] += p;
            }
        }
        Shape d = zs.spatial() ? zs : Shape.features(z + conditionDim);
        if (isConditional()) {
            sb.append(row("z joined with condition", d, 0));
        }
        Shape out = rows(sb, "decoder", decoder, d, total);
        int logvars = switch (likelihood) {
            case LikelihoodSpec.GaussianLearned _ -> out.size();
            case LikelihoodSpec.GaussianLearnedGlobal _ -> 1;
            case LikelihoodSpec.Bernoulli _, LikelihoodSpec.GaussianFixed _, LikelihoodSpec.Huber _ -> 0;
        };
        if (logvars > 0) {
            sb.append(row("decoder_logvar", Shape.features(logvars), logvars));
            total[0] += logvars;
        }
        sb.append(String.format(Locale.ROOT, "likelihood: %s%n", likelihood.describe()));
        sb.append(String.format(Locale.ROOT, "total: %,d parameters, %,d bytes (float32)%n", total[0], total[0] * 4));
        return sb.toString();
    }

    /** Appends one row per layer from an input of shape {@code in}; adds the parameters to total[0]; returns the output shape. */
    private static Shape rows(StringBuilder sb, String prefix, List<LayerSpec> layers, Shape in, long[] total) {
        Shape w = in;
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            long p = l.trainedParameters(w);
            try {
                w = l.outputShape(w);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(prefix + "." + i + " " + e.getMessage(), e);
            }
            total[0] += p;
            sb.append(row(prefix + "." + i + " " + l.describe(), w, p));
        }
        return w;
    }

    private static String row(String name, Shape s, long params) {
        String shape = s.spatial() ? "(batch, " + s.channels() + ", " + s.height() + ", " + s.width() + ")" : "(batch, " + s.size() + ")";
        return String.format(Locale.ROOT, "%-50s %-18s %12s%n", name, shape, params == 0 ? "" : String.format(Locale.ROOT, "%,d", params));
    }

    // ------------------------------------------------------------------ JSON

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("input_dim", inputDim);
        if (inputShape != null) {
            m.put("input_shape", List.of(inputShape.channels(), inputShape.height(), inputShape.width()));
        }
        if (isConditional()) {
            m.put("condition_dim", conditionDim);
        }
        m.put("encoder", layersJson(encoder));
        Map<String, Object> lat = new LinkedHashMap<>();
        lat.put("kind", latent.kindName());
        lat.put("dim", latent.dim());
        switch (latent) {
            case LatentSpec.Deterministic d -> {
                if (d.activation() != Activation.IDENTITY) {
                    lat.put("activation", d.activation().name().toLowerCase(Locale.ROOT));
                }
                if (d.contractive() != 0f) {
                    lat.put("contractive", (double) d.contractive());
                }
            }
            case LatentSpec.VectorQuantized v -> {
                lat.put("codes", v.codes());
                lat.put("beta", (double) v.beta());
                lat.put("codebook", v.ema() ? "ema" : "gradient");
                lat.put("decay", (double) v.decay());
                lat.put("dead_code_threshold", (double) v.deadThreshold());
                lat.put("search", v.cosine() ? "cosine" : "euclidean");
                if (v.kmeansIterations() > 0) {
                    lat.put("kmeans_iterations", v.kmeansIterations());
                }
                if (v.codebookDim() > 0) {
                    lat.put("codebook_dim", v.codebookDim());
                }
            }
            case LatentSpec.FiniteScalar f -> lat.put("levels", new ArrayList<Object>(f.levels()));
            case LatentSpec.Gaussian g -> {
                if (g.logvarMin() != Float.NEGATIVE_INFINITY) {
                    lat.put("logvar_min", (double) g.logvarMin());
                }
                if (g.logvarMax() != Float.POSITIVE_INFINITY) {
                    lat.put("logvar_max", (double) g.logvarMax());
                }
            }
        }
        m.put("latent", lat);
        m.put("decoder", layersJson(decoder));
        Map<String, Object> lik = new LinkedHashMap<>();
        lik.put("kind", likelihood.kindName());
        switch (likelihood) {
            case LikelihoodSpec.GaussianFixed g -> lik.put("variance", (double) g.variance());
            case LikelihoodSpec.Huber h -> lik.put("delta", (double) h.delta());
            case LikelihoodSpec.Bernoulli _, LikelihoodSpec.GaussianLearned _, LikelihoodSpec.GaussianLearnedGlobal _ -> { }
        }
        m.put("likelihood", lik);
        return Json.write(m);
    }

    private static List<Object> layersJson(List<LayerSpec> layers) {
        List<Object> out = new ArrayList<>();
        for (LayerSpec l : layers) {
            out.add(l.toJson());
        }
        return out;
    }

    /** Reads a spec written by {@link #toJson()}; errors name the field that is wrong. */
    public static ModelSpec fromJson(String json) {
        Object root = Json.parse(json);
        Map<?, ?> m = asMap(root, "model spec");
        if (!FORMAT.equals(m.get("format"))) {
            throw new IllegalArgumentException("model spec: \"format\" must be \"" + FORMAT + "\", got " + Json.write(m.get("format")));
        }
        int version = asInt(m.get("version"), "version");
        if (version != VERSION) {
            throw new IllegalArgumentException("model spec: version " + version + " is not supported (this latent4j reads version " + VERSION + ")");
        }
        int input = asInt(m.get("input_dim"), "input_dim");
        int condition = m.containsKey("condition_dim") ? asInt(m.get("condition_dim"), "condition_dim") : 0;
        Shape shape = null;
        if (m.containsKey("input_shape")) {
            if (!(m.get("input_shape") instanceof List<?> dims) || dims.size() != 3) {
                throw new IllegalArgumentException("model spec: \"input_shape\" must be [channels, height, width], got " + Json.write(m.get("input_shape")));
            }
            int c = asInt(dims.get(0), "input_shape[0]"), h = asInt(dims.get(1), "input_shape[1]"), w = asInt(dims.get(2), "input_shape[2]");
            if (c == 0 || h == 0 || w == 0) {
                throw new IllegalArgumentException("model spec: \"input_shape\" sizes must be positive, got " + Json.write(m.get("input_shape")));
            }
            shape = Shape.image(c, h, w);
        }
        List<LayerSpec> enc = layers(m.get("encoder"), "encoder");
        Map<?, ?> lat = asMap(m.get("latent"), "latent");
        LatentSpec latent;
        try {
            latent = latentFromJson(lat);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith("model spec") ? e.getMessage() : "model spec: latent: " + e.getMessage(), e);
        }
        List<LayerSpec> dec = layers(m.get("decoder"), "decoder");
        Map<?, ?> lik = asMap(m.get("likelihood"), "likelihood");
        LikelihoodSpec likelihood = likelihoodFromJson(lik);
        try {
            return new ModelSpec(input, enc, latent, dec, likelihood, condition, shape);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model spec: " + e.getMessage(), e);
        }
    }

    /** The kinds a model file's latent can have, by their JSON names; each reads only its own fields. */
    private enum LatentKind { DETERMINISTIC, GAUSSIAN, VECTOR_QUANTIZED, FINITE_SCALAR }

    private static LatentSpec latentFromJson(Map<?, ?> lat) {
        LatentKind kind = enumOf(LatentKind.class, lat.get("kind"), "latent.kind");
        int dim = asInt(lat.get("dim"), "latent.dim");
        return switch (kind) {
            case DETERMINISTIC -> {
                only(lat, "latent", "a deterministic latent", "kind", "dim", "activation", "contractive");
                yield new LatentSpec.Deterministic(dim,
                        lat.containsKey("activation") ? enumOf(Activation.class, lat.get("activation"), "latent.activation") : Activation.IDENTITY,
                        lat.containsKey("contractive") ? (float) asDouble(lat.get("contractive"), "latent.contractive") : 0f);
            }
            case VECTOR_QUANTIZED -> {
                only(lat, "latent", "a vector-quantized latent", "kind", "dim", "codes", "beta", "codebook", "decay", "dead_code_threshold", "search",
                        "kmeans_iterations", "codebook_dim");
                String book = lat.containsKey("codebook") ? String.valueOf(lat.get("codebook")) : "ema";
                String search = lat.containsKey("search") ? String.valueOf(lat.get("search")) : "euclidean";
                if (!book.equals("ema") && !book.equals("gradient")) {
                    throw new IllegalArgumentException("model spec: \"latent.codebook\" must be \"ema\" or \"gradient\", got " + Json.write(lat.get("codebook")));
                }
                if (!search.equals("euclidean") && !search.equals("cosine")) {
                    throw new IllegalArgumentException("model spec: \"latent.search\" must be \"euclidean\" or \"cosine\", got " + Json.write(lat.get("search")));
                }
                yield new LatentSpec.VectorQuantized(asInt(lat.get("codes"), "latent.codes"), dim,
                        lat.containsKey("beta") ? (float) asDouble(lat.get("beta"), "latent.beta") : 0.25f, book.equals("ema"),
                        lat.containsKey("decay") ? (float) asDouble(lat.get("decay"), "latent.decay") : 0.99f,
                        lat.containsKey("dead_code_threshold") ? (float) asDouble(lat.get("dead_code_threshold"), "latent.dead_code_threshold") : 0.03f,
                        search.equals("cosine"), lat.containsKey("kmeans_iterations") ? asInt(lat.get("kmeans_iterations"), "latent.kmeans_iterations") : 0,
                        lat.containsKey("codebook_dim") ? asInt(lat.get("codebook_dim"), "latent.codebook_dim") : 0);
            }
            case FINITE_SCALAR -> {
                only(lat, "latent", "a finite-scalar latent", "kind", "dim", "levels");
                if (!(lat.get("levels") instanceof List<?> ls)) {
                    throw new IllegalArgumentException("model spec: \"latent.levels\" must be a list of level counts, got " + Json.write(lat.get("levels")));
                }
                List<Integer> levels = new ArrayList<>();
                for (int i = 0; i < ls.size(); i++) {
                    levels.add(asInt(ls.get(i), "latent.levels[" + i + "]"));
                }
                LatentSpec.FiniteScalar f = new LatentSpec.FiniteScalar(levels);
                if (f.dim() != dim) {
                    throw new IllegalArgumentException("model spec: \"latent.dim\" is " + dim + " but the latent has " + f.dim() + " levels");
                }
                yield f;
            }
            case GAUSSIAN -> {
                only(lat, "latent", "a Gaussian latent", "kind", "dim", "logvar_min", "logvar_max");
                yield new LatentSpec.Gaussian(dim,
                        lat.containsKey("logvar_min") ? (float) asDouble(lat.get("logvar_min"), "latent.logvar_min") : Float.NEGATIVE_INFINITY,
                        lat.containsKey("logvar_max") ? (float) asDouble(lat.get("logvar_max"), "latent.logvar_max") : Float.POSITIVE_INFINITY);
            }
        };
    }

    /** The kinds of likelihood by their JSON names. */
    private enum LikelihoodKind { BERNOULLI, GAUSSIAN_FIXED, GAUSSIAN_LEARNED, GAUSSIAN_LEARNED_GLOBAL, HUBER }

    private static LikelihoodSpec likelihoodFromJson(Map<?, ?> lik) {
        try {
            return switch (enumOf(LikelihoodKind.class, lik.get("kind"), "likelihood.kind")) {
                case BERNOULLI -> new LikelihoodSpec.Bernoulli();
                case GAUSSIAN_FIXED -> new LikelihoodSpec.GaussianFixed((float) asDouble(lik.get("variance"), "likelihood.variance"));
                case GAUSSIAN_LEARNED -> new LikelihoodSpec.GaussianLearned();
                case GAUSSIAN_LEARNED_GLOBAL -> new LikelihoodSpec.GaussianLearnedGlobal();
                case HUBER -> new LikelihoodSpec.Huber((float) asDouble(lik.get("delta"), "likelihood.delta"));
            };
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith("model spec") ? e.getMessage() : "model spec: likelihood: " + e.getMessage(), e);
        }
    }

    /** Refuses a field that the kind does not have (a Gaussian latent's "activation"), naming it. */
    private static void only(Map<?, ?> m, String where, String what, String... fields) {
        java.util.Set<String> allowed = java.util.Set.of(fields);
        for (Object k : m.keySet()) {
            if (!allowed.contains(String.valueOf(k))) {
                throw new IllegalArgumentException("model spec: \"" + where + "." + k + "\": " + what + " has no such field");
            }
        }
    }

    private static List<LayerSpec> layers(Object v, String where) {
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("model spec: \"" + where + "\" must be a list of layers");
        }
        List<LayerSpec> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = where + "[" + i + "]";
            Map<?, ?> l = asMap(list.get(i), at);
            try {
                out.add(LayerSpec.fromJson(l, at, NUMBERS));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage().startsWith("model spec") ? e.getMessage()
                        : "model spec: " + at + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static final LayerSpec.Numbers NUMBERS = new LayerSpec.Numbers() {
        @Override
        public int integer(Object v, String where) {
            return asInt(v, where);
        }

        @Override
        public float real(Object v, String where) {
            return (float) asDouble(v, where);
        }
    };

    private static Map<?, ?> asMap(Object v, String where) {
        if (!(v instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("model spec: \"" + where + "\" must be an object");
        }
        return m;
    }

    private static double asDouble(Object v, String where) {
        if (!(v instanceof Double d) || !Double.isFinite(d)) {
            throw new IllegalArgumentException("model spec: \"" + where + "\" must be a number, got " + Json.write(v));
        }
        return d;
    }

    private static int asInt(Object v, String where) {
        double d = asDouble(v, where);
        if (d != Math.rint(d) || d < 0 || d > 1 << 28) {
            throw new IllegalArgumentException("model spec: \"" + where + "\" must be a whole number from 0 to 2^28, got " + Json.write(v));
        }
        return (int) d;
    }

    private static <E extends Enum<E>> E enumOf(Class<E> type, Object v, String where) {
        if (v instanceof String s) {
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(s)) {
                    return e;
                }
            }
        }
        throw new IllegalArgumentException("model spec: unknown " + where + " " + Json.write(v));
    }
}
