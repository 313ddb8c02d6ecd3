package org.latent4j.dsl;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.latent4j.kernel.Activation;

/**
 * An immutable description of a model: what the DSL builds, what a model file stores (as JSON),
 * and what the graph compiler reads. {@code inputDim} 0 means "taken from the data".
 */
public record ModelSpec(int inputDim, List<LayerSpec> encoder, LatentSpec latent, List<LayerSpec> decoder,
                        LikelihoodSpec likelihood, int conditionDim) {
    public static final String FORMAT = "latent4j-model";
    public static final int VERSION = 1;

    /** An unconditional model. */
    public ModelSpec(int inputDim, List<LayerSpec> encoder, LatentSpec latent, List<LayerSpec> decoder, LikelihoodSpec likelihood) {
        this(inputDim, encoder, latent, decoder, likelihood, 0);
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
        encoder = List.copyOf(encoder);
        decoder = List.copyOf(decoder);
    }

    /** True for a conditional model: a condition vector joins the encoder's input and the latent code. */
    public boolean isConditional() {
        return conditionDim > 0;
    }

    public boolean isVariational() {
        return latent.kind() == LatentSpec.Kind.GAUSSIAN;
    }

    /** The same spec with the input width fixed (from the data). */
    public ModelSpec withInputDim(int dim) {
        if (dim <= 0) {
            throw new IllegalArgumentException("input width must be positive, got " + dim);
        }
        if (inputDim != 0 && inputDim != dim) {
            throw new IllegalArgumentException("the model takes " + inputDim + " input features but the data has " + dim);
        }
        return new ModelSpec(dim, encoder, latent, decoder, likelihood, conditionDim);
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

    /** A table of layers, output widths and parameter counts; needs a known input width. */
    public String summary() {
        if (inputDim == 0) {
            return "model with input width taken from the data (summary after compile)";
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-28s %-14s %12s%n", "layer", "output", "parameters"));
        long total = 0;
        int w = inputDim + conditionDim;
        sb.append(String.format(Locale.ROOT, "%-28s %-14s %12s%n", "input", "(batch, " + inputDim + ")", ""));
        if (isConditional()) {
            sb.append(String.format(Locale.ROOT, "%-28s %-14s %12s%n", "joined with condition", "(batch, " + w + ")", ""));
        }
        long[] acc = {total, w};
        rows(sb, "encoder", encoder, acc);
        total = acc[0];
        w = (int) acc[1];
        int z = latent.dim();
        if (isVariational()) {
            long p = (long) w * z + z;
            sb.append(row("fc_mu dense(" + z + ")", z, p));
            sb.append(row("fc_logvar dense(" + z + ")", z, p));
            sb.append(row("z = mu + exp(logvar/2) eps", z, 0));
            total += 2 * p;
        } else {
            long p = (long) w * z + z;
            sb.append(row("latent dense(" + z + ")" + (latent.activation() == Activation.IDENTITY ? ""
                    : " " + latent.activation().name().toLowerCase(Locale.ROOT)), z, p));
            total += p;
        }
        acc[0] = total;
        acc[1] = z + conditionDim;
        if (isConditional()) {
            sb.append(row("z joined with condition", z + conditionDim, 0));
        }
        rows(sb, "decoder", decoder, acc);
        total = acc[0];
        w = (int) acc[1];
        if (likelihood.kind() == LikelihoodSpec.Kind.GAUSSIAN_LEARNED) {
            sb.append(row("decoder_logvar", w, w));
            total += w;
        } else if (likelihood.kind() == LikelihoodSpec.Kind.GAUSSIAN_LEARNED_GLOBAL) {
            sb.append(row("decoder_logvar", 1, 1));
            total += 1;
        }
        sb.append(String.format(Locale.ROOT, "likelihood: %s%n", likelihood.describe()));
        sb.append(String.format(Locale.ROOT, "total: %,d parameters, %,d bytes (float32)%n", total, total * 4));
        return sb.toString();
    }

    /** Appends one row per layer; acc = {parameters so far, current width}, updated. */
    private static void rows(StringBuilder sb, String prefix, List<LayerSpec> layers, long[] acc) {
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            long p = l.trainedParameters((int) acc[1]);
            acc[1] = l.outputWidth((int) acc[1]);
            acc[0] += p;
            sb.append(row(prefix + "." + i + " " + l.describe(), (int) acc[1], p));
        }
    }

    private static String row(String name, int w, long params) {
        return String.format(Locale.ROOT, "%-28s %-14s %12s%n", name, "(batch, " + w + ")", params == 0 ? "" : String.format(Locale.ROOT, "%,d", params));
    }

    // ------------------------------------------------------------------ JSON

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("input_dim", inputDim);
        if (isConditional()) {
            m.put("condition_dim", conditionDim);
        }
        m.put("encoder", layersJson(encoder));
        Map<String, Object> lat = new LinkedHashMap<>();
        lat.put("kind", latent.kind().name().toLowerCase(Locale.ROOT));
        lat.put("dim", latent.dim());
        if (latent.activation() != Activation.IDENTITY) {
            lat.put("activation", latent.activation().name().toLowerCase(Locale.ROOT));
        }
        if (latent.contractive() != 0f) {
            lat.put("contractive", (double) latent.contractive());
        }
        if (latent.logvarMin() != Float.NEGATIVE_INFINITY) {
            lat.put("logvar_min", (double) latent.logvarMin());
        }
        if (latent.logvarMax() != Float.POSITIVE_INFINITY) {
            lat.put("logvar_max", (double) latent.logvarMax());
        }
        m.put("latent", lat);
        m.put("decoder", layersJson(decoder));
        Map<String, Object> lik = new LinkedHashMap<>();
        lik.put("kind", likelihood.kind().name().toLowerCase(Locale.ROOT));
        if (likelihood.kind() == LikelihoodSpec.Kind.GAUSSIAN_FIXED) {
            lik.put("variance", (double) likelihood.variance());
        } else if (likelihood.kind() == LikelihoodSpec.Kind.HUBER) {
            lik.put("delta", (double) likelihood.delta());
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
        List<LayerSpec> enc = layers(m.get("encoder"), "encoder");
        Map<?, ?> lat = asMap(m.get("latent"), "latent");
        LatentSpec latent;
        try {
            latent = new LatentSpec(enumOf(LatentSpec.Kind.class, lat.get("kind"), "latent.kind"), asInt(lat.get("dim"), "latent.dim"),
                    lat.containsKey("activation") ? enumOf(Activation.class, lat.get("activation"), "latent.activation") : Activation.IDENTITY,
                    lat.containsKey("contractive") ? (float) asDouble(lat.get("contractive"), "latent.contractive") : 0f,
                    lat.containsKey("logvar_min") ? (float) asDouble(lat.get("logvar_min"), "latent.logvar_min") : Float.NEGATIVE_INFINITY,
                    lat.containsKey("logvar_max") ? (float) asDouble(lat.get("logvar_max"), "latent.logvar_max") : Float.POSITIVE_INFINITY);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith("model spec") ? e.getMessage() : "model spec: latent: " + e.getMessage(), e);
        }
        List<LayerSpec> dec = layers(m.get("decoder"), "decoder");
        Map<?, ?> lik = asMap(m.get("likelihood"), "likelihood");
        LikelihoodSpec.Kind lk = enumOf(LikelihoodSpec.Kind.class, lik.get("kind"), "likelihood.kind");
        float parameter = switch (lk) {
            case GAUSSIAN_FIXED -> (float) asDouble(lik.get("variance"), "likelihood.variance");
            case HUBER -> (float) asDouble(lik.get("delta"), "likelihood.delta");
            case BERNOULLI, GAUSSIAN_LEARNED, GAUSSIAN_LEARNED_GLOBAL -> 0f;
        };
        try {
            return new ModelSpec(input, enc, latent, dec, new LikelihoodSpec(lk, parameter), condition);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model spec: " + e.getMessage(), e);
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
