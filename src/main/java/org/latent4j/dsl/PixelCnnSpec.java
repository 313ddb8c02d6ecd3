package org.latent4j.dsl;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shape of a PixelCNN prior over a height x width grid of code indices in 0..codes-1 (van
 * den Oord et al. 2016): the indices embedded as {@code embedding} channels, a type-A masked
 * {@code kernel} x {@code kernel} convolution to {@code channels} channels, {@code blocks} residual
 * blocks of two type-B masked 3x3 convolutions (x + conv(relu(conv(relu(x))))), then ReLU, a 1x1
 * convolution, ReLU and a 1x1 convolution to {@code codes} logits per position.
 */
public record PixelCnnSpec(int codes, int height, int width, int embedding, int channels, int kernel, int blocks) {
    public PixelCnnSpec {
        check("codes", codes, 2, 1 << 20);
        check("height", height, 1, 4096);
        check("width", width, 1, 4096);
        check("embedding", embedding, 1, 4096);
        check("channels", channels, 1, 4096);
        check("kernel", kernel, 1, 63);
        check("blocks", blocks, 0, 64);
        if (kernel % 2 == 0) {
            throw new IllegalArgumentException("PixelCNN prior: kernel must be odd, got " + kernel);
        }
    }

    private static void check(String what, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException("PixelCNN prior: " + what + " must be in " + min + ".." + max + ", got " + v);
        }
    }

    /** The default for a code grid: 64 embedding channels, 64 channels, a 7x7 first kernel (5x5 on grids under 7), 2 residual blocks. */
    public static PixelCnnSpec forGrid(int codes, int height, int width) {
        int k = Math.min(height, width) >= 7 ? 7 : Math.min(height, width) >= 5 ? 5 : 3;
        return new PixelCnnSpec(codes, height, width, 64, 64, k, 2);
    }

    public int positions() {
        return height * width;
    }

    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("codes", codes);
        m.put("height", height);
        m.put("width", width);
        m.put("embedding", embedding);
        m.put("channels", channels);
        m.put("kernel", kernel);
        m.put("blocks", blocks);
        return Json.write(m);
    }

    /** The spec of {@link #toJson}; a one-line error naming the key that is missing or wrong. */
    public static PixelCnnSpec fromJson(String json) {
        if (!(Json.parse(json) instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("PixelCNN prior: the spec is not a JSON object");
        }
        return new PixelCnnSpec(get(m, "codes"), get(m, "height"), get(m, "width"), get(m, "embedding"), get(m, "channels"), get(m, "kernel"),
                get(m, "blocks"));
    }

    private static int get(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || Math.abs(n.doubleValue()) > 1 << 30) {
            throw new IllegalArgumentException("PixelCNN prior: \"" + key + "\" must be a whole number, got " + m.get(key));
        }
        return n.intValue();
    }
}
