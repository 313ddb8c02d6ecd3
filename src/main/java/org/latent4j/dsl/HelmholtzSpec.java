package org.latent4j.dsl;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Helmholtz machine (Dayan, Hinton, Neal and Zemel 1995), a sigmoid belief network with a
 * recognition network: binary stochastic layers h_0 = x (the {@code visible} units), h_1, ...,
 * h_L of the given widths (bottom to top). The generative model is
 * p(x, h) = p(h_L) prod_{l<L} p(h_l | h_{l+1}) with a factorial Bernoulli top prior of learned
 * logits, p(h_L,j = 1) = sigmoid(a_j), and sigmoid belief layers
 * p(h_l,i = 1 | h_{l+1}) = sigmoid(G_l h_{l+1} + b_l)_i; the recognition model mirrors it bottom
 * up, q(h_{l+1},j = 1 | h_l) = sigmoid(R_l h_l + c_l)_j. Built by
 * {@code Model.helmholtz(784).layers(200, 200)}; written to and read from JSON as the model files
 * store it ({@code "format": "latent4j-helmholtz"}).
 */
public record HelmholtzSpec(int visible, List<Integer> layers) {
    public static final String FORMAT = "latent4j-helmholtz";
    public static final int VERSION = 1;

    public HelmholtzSpec {
        if (visible <= 0) {
            throw new IllegalArgumentException("helmholtz(" + visible + "): the visible layer needs at least one unit");
        }
        if (layers == null || layers.isEmpty()) {
            throw new IllegalArgumentException("a Helmholtz machine needs at least one hidden layer (layers(200, 200), say)");
        }
        layers = List.copyOf(layers);
        if (layers.size() > 30) {
            throw new IllegalArgumentException("a Helmholtz machine takes at most 30 hidden layers, got " + layers.size());
        }
        for (int i = 0; i < layers.size(); i++) {
            int w = layers.get(i);
            if (w <= 0 || w > 1 << 16) {
                throw new IllegalArgumentException("hidden layer " + (i + 1) + " of the Helmholtz machine must have 1 to 65536 units, got " + w);
            }
        }
        if (visible > 1 << 20) {
            throw new IllegalArgumentException("helmholtz(" + visible + "): at most 2^20 visible units");
        }
    }

    /** The stage after {@code Model.helmholtz(visible)}: the hidden layers' widths, bottom to top. */
    public record Stage(int visible) {
        public HelmholtzSpec layers(int... widths) {
            List<Integer> w = new ArrayList<>();
            for (int x : widths) {
                w.add(x);
            }
            return new HelmholtzSpec(visible, w);
        }
    }

    /** The number of stochastic layers counting the visible one (L + 1). */
    public int depth() {
        return layers.size() + 1;
    }

    /** Width of layer l: the visible layer for l = 0, hidden layer l otherwise. */
    public int width(int l) {
        return l == 0 ? visible : layers.get(l - 1);
    }

    /** Width of the top layer h_L. */
    public int top() {
        return layers.get(layers.size() - 1);
    }

    /** Trained parameters: both networks' weights and biases, and the prior's logits. */
    public long parameterCount() {
        long p = top();
        for (int l = 0; l + 1 < depth(); l++) {
            long a = width(l), b = width(l + 1);
            p += 2 * a * b + a + b;
        }
        return p;
    }

    /** One line, e.g. "Helmholtz machine 784-200-200 (sigmoid belief net with recognition net)". */
    public String describe() {
        StringBuilder sb = new StringBuilder("Helmholtz machine ").append(visible);
        for (int w : layers) {
            sb.append('-').append(w);
        }
        return sb.append(" (binary stochastic layers, ").append(String.format(java.util.Locale.ROOT, "%,d", parameterCount()))
                .append(" parameters)").toString();
    }

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("visible", visible);
        m.put("layers", new ArrayList<Object>(layers));
        return Json.write(m);
    }

    /** True when the JSON text is a Helmholtz machine's spec (its "format" field), without checking the rest. */
    public static boolean isHelmholtzJson(String json) {
        try {
            return Json.parse(json) instanceof Map<?, ?> m && FORMAT.equals(m.get("format"));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Reads a spec written by {@link #toJson()}; errors name the field that is wrong. */
    public static HelmholtzSpec fromJson(String json) {
        if (!(Json.parse(json) instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("helmholtz spec: must be a JSON object");
        }
        if (!FORMAT.equals(m.get("format"))) {
            throw new IllegalArgumentException("helmholtz spec: \"format\" must be \"" + FORMAT + "\", got " + Json.write(m.get("format")));
        }
        int version = whole(m.get("version"), "version");
        if (version != VERSION) {
            throw new IllegalArgumentException("helmholtz spec: version " + version + " is not supported (this latent4j reads version " + VERSION + ")");
        }
        int visible = whole(m.get("visible"), "visible");
        if (!(m.get("layers") instanceof List<?> list)) {
            throw new IllegalArgumentException("helmholtz spec: \"layers\" must be a list of widths, got " + Json.write(m.get("layers")));
        }
        List<Integer> w = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            w.add(whole(list.get(i), "layers[" + i + "]"));
        }
        try {
            return new HelmholtzSpec(visible, w);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("helmholtz spec: " + e.getMessage(), e);
        }
    }

    private static int whole(Object v, String where) {
        if (!(v instanceof Double d) || d != Math.rint(d) || d < 0 || d > 1 << 28) {
            throw new IllegalArgumentException("helmholtz spec: \"" + where + "\" must be a whole number from 0 to 2^28, got " + Json.write(v));
        }
        return (int) (double) d;
    }
}
