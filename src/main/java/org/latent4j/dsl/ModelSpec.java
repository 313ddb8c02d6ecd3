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
                        LikelihoodSpec likelihood) {
    public static final String FORMAT = "latent4j-model";
    public static final int VERSION = 1;

    public ModelSpec {
        if (inputDim < 0) {
            throw new IllegalArgumentException("input width must be positive (or 0: from the data), got " + inputDim);
        }
        if (latent == null || likelihood == null) {
            throw new IllegalArgumentException("a model needs a latent and a likelihood");
        }
        encoder = List.copyOf(encoder);
        decoder = List.copyOf(decoder);
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
        return new ModelSpec(dim, encoder, latent, decoder, likelihood);
    }

    /** Output width of the decoder's last dense layer (0 when it has none). */
    public int decoderOutputDim() {
        int w = 0;
        for (LayerSpec l : decoder) {
            if (l.kind() == LayerSpec.Kind.DENSE) {
                w = l.units();
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
        int w = inputDim;
        sb.append(String.format(Locale.ROOT, "%-28s %-14s %12s%n", "input", "(batch, " + w + ")", ""));
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
            sb.append(row("latent dense(" + z + ")", z, p));
            total += p;
        }
        acc[0] = total;
        acc[1] = z;
        rows(sb, "decoder", decoder, acc);
        total = acc[0];
        w = (int) acc[1];
        if (likelihood.kind() == LikelihoodSpec.Kind.GAUSSIAN_LEARNED) {
            sb.append(row("decoder_logvar", w, w));
            total += w;
        }
        sb.append(String.format(Locale.ROOT, "likelihood: %s%n", likelihood.describe()));
        sb.append(String.format(Locale.ROOT, "total: %,d parameters, %,d bytes (float32)%n", total, total * 4));
        return sb.toString();
    }

    /** Appends one row per layer; acc = {parameters so far, current width}, updated. */
    private static void rows(StringBuilder sb, String prefix, List<LayerSpec> layers, long[] acc) {
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            long p = 0;
            if (l.kind() == LayerSpec.Kind.DENSE) {
                p = acc[1] * l.units() + l.units();
                acc[1] = l.units();
            }
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
        m.put("encoder", layersJson(encoder));
        Map<String, Object> lat = new LinkedHashMap<>();
        lat.put("kind", latent.kind().name().toLowerCase(Locale.ROOT));
        lat.put("dim", latent.dim());
        m.put("latent", lat);
        m.put("decoder", layersJson(decoder));
        Map<String, Object> lik = new LinkedHashMap<>();
        lik.put("kind", likelihood.kind().name().toLowerCase(Locale.ROOT));
        if (likelihood.kind() == LikelihoodSpec.Kind.GAUSSIAN_FIXED) {
            lik.put("variance", (double) likelihood.variance());
        }
        m.put("likelihood", lik);
        return Json.write(m);
    }

    private static List<Object> layersJson(List<LayerSpec> layers) {
        List<Object> out = new ArrayList<>();
        for (LayerSpec l : layers) {
            Map<String, Object> m = new LinkedHashMap<>();
            switch (l.kind()) {
                case DENSE -> m.put("dense", l.units());
                case ACTIVATION -> {
                    m.put("activation", l.activation().name().toLowerCase(Locale.ROOT));
                    if (l.activation() == Activation.LEAKY_RELU || l.activation() == Activation.ELU) {
                        m.put("parameter", (double) l.parameter());
                    }
                }
            }
            out.add(m);
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
        List<LayerSpec> enc = layers(m.get("encoder"), "encoder");
        Map<?, ?> lat = asMap(m.get("latent"), "latent");
        LatentSpec latent = new LatentSpec(enumOf(LatentSpec.Kind.class, lat.get("kind"), "latent.kind"), asInt(lat.get("dim"), "latent.dim"));
        List<LayerSpec> dec = layers(m.get("decoder"), "decoder");
        Map<?, ?> lik = asMap(m.get("likelihood"), "likelihood");
        LikelihoodSpec.Kind lk = enumOf(LikelihoodSpec.Kind.class, lik.get("kind"), "likelihood.kind");
        float variance = lk == LikelihoodSpec.Kind.GAUSSIAN_FIXED ? (float) asDouble(lik.get("variance"), "likelihood.variance") : 0f;
        try {
            return new ModelSpec(input, enc, latent, dec, new LikelihoodSpec(lk, variance));
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
                if (l.containsKey("dense")) {
                    out.add(LayerSpec.dense(asInt(l.get("dense"), at + ".dense")));
                } else if (l.containsKey("activation")) {
                    Activation a = enumOf(Activation.class, l.get("activation"), at + ".activation");
                    float p = l.containsKey("parameter") ? (float) asDouble(l.get("parameter"), at + ".parameter") : 0f;
                    out.add(LayerSpec.activation(a, p));
                } else {
                    throw new IllegalArgumentException("unknown layer " + Json.write(l) + " (expected \"dense\" or \"activation\")");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage().startsWith("model spec") ? e.getMessage()
                        : "model spec: " + at + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

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
