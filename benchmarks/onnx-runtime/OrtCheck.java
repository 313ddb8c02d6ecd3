import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.latent4j.model.Autoencoder;
import org.latent4j.model.LatentModel;
import org.latent4j.model.LinearModel;
import org.latent4j.model.Models;

/**
 * Runs the ONNX files `./latent4j export` wrote in ONNX Runtime (the JVM's native runtime, a
 * benchmarks-only peer: never a dependency of the build or the tests) and compares every output
 * with latent4j's own on the folder's x.csv: encoder (mu and logvar, or code), decoder (on the
 * codes latent4j gives) and reconstruct. One JSON line per graph; exit code 1 when an output is
 * off by more than 1e-5 (|a - b| / max(1, |b|)). Run by benchmarks/onnx-runtime/run.
 */
public class OrtCheck {
    static float[][] csv(Path f) throws Exception {
        List<float[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(f)) {
            if (line.isBlank() || Character.isLetter(line.charAt(0))) {
                continue;
            }
            String[] c = line.split(",");
            float[] r = new float[c.length];
            for (int j = 0; j < r.length; j++) {
                r[j] = Float.parseFloat(c[j]);
            }
            rows.add(r);
        }
        return rows.toArray(new float[0][]);
    }

    static OnnxTensor tensor(OrtEnvironment env, OrtSession s, String name, float[][] rows) throws Exception {
        long[] shape = ((TensorInfo) s.getInputInfo().get(name).getInfo()).getShape();
        shape[0] = rows.length;
        int d = rows[0].length;
        float[] flat = new float[rows.length * d];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, flat, r * d, d);
        }
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(flat), shape);
    }

    static double worst(float[][] ours, OnnxTensor theirs) {
        FloatBuffer b = theirs.getFloatBuffer();
        int d = ours[0].length;
        if (b.remaining() != ours.length * d) {
            throw new IllegalStateException("ONNX Runtime gave " + b.remaining() + " values for " + ours.length + " x " + d);
        }
        double w = 0;
        for (int r = 0; r < ours.length; r++) {
            for (int j = 0; j < d; j++) {
                double e = ours[r][j], a = b.get(r * d + j);
                w = Math.max(w, Math.abs(e - a) / Math.max(1, Math.abs(e)));
            }
        }
        return w;
    }

    public static void main(String[] args) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int failures = 0;
        for (String a : args) {
            Path dir = Path.of(a);
            LatentModel m = Models.load(dir.resolve("model.safetensors"));
            float[][] x = csv(dir.resolve("x.csv"));
            float[][] codes = m.encode(x);
            boolean variational = m instanceof Autoencoder ae ? ae.spec().isVariational() : m.kind().equals("ppca");
            for (String part : new String[] {"encoder", "decoder", "reconstruct"}) {
                try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                    o.setIntraOpNumThreads(1);
                    try (OrtSession s = env.createSession(dir.resolve(part + ".onnx").toString(), o)) {
                        Map<String, OnnxTensor> in = part.equals("decoder") ? Map.of("z", tensor(env, s, "z", codes))
                                : Map.of("x", tensor(env, s, "x", x));
                        StringBuilder line = new StringBuilder("{\"dir\":\"" + dir + "\",\"graph\":\"" + part + "\"");
                        double w = 0;
                        try (OrtSession.Result r = s.run(in)) {
                            if (part.equals("encoder")) {
                                double mu = worst(codes, (OnnxTensor) r.get(variational ? "mu" : "code").get());
                                line.append(",\"" + (variational ? "mu" : "code") + "\":" + mu);
                                w = mu;
                                if (variational) {
                                    float[][] lv;
                                    if (m instanceof Autoencoder ae) {
                                        lv = ae.encodeLogVariance(x);
                                    } else {
                                        lv = new float[x.length][];
                                        java.util.Arrays.fill(lv, ((LinearModel) m).encodeLogVariance());
                                    }
                                    double l = worst(lv, (OnnxTensor) r.get("logvar").get());
                                    line.append(",\"logvar\":" + l);
                                    w = Math.max(w, l);
                                }
                            } else {
                                float[][] ours = part.equals("decoder") ? m.decode(codes) : m.reconstruct(x);
                                w = worst(ours, (OnnxTensor) r.get("reconstruction").get());
                                line.append(",\"reconstruction\":" + w);
                            }
                        }
                        for (OnnxTensor t : in.values()) {
                            t.close();
                        }
                        boolean ok = w <= 1e-5;
                        failures += ok ? 0 : 1;
                        System.out.println(line.append(",\"rows\":" + x.length + ",\"ok\":" + ok + "}"));
                    }
                }
            }
        }
        System.out.println("{\"onnxruntime\":\"" + OrtEnvironment.getEnvironment().getVersion() + "\",\"failures\":" + failures + "}");
        System.exit(failures == 0 ? 0 : 1);
    }
}
