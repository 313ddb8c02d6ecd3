import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Map;

/** The same with ONNX Runtime's Java API: a session on reconstruct.onnx (default options), one row. */
public final class OrtColdStart {
    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession s = env.createSession(args[0], new OrtSession.SessionOptions());
        long t1 = System.nanoTime();
        float[] x = new float[784];
        for (int i = 0; i < 784; i++) {
            x[i] = (i % 255) / 255f;
        }
        String input = s.getInputNames().iterator().next();
        float[] r;
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, 784});
                OrtSession.Result res = s.run(Map.of(input, t))) {
            FloatBuffer b = ((OnnxTensor) res.get(0)).getFloatBuffer();
            r = new float[b.remaining()];
            b.get(r);
        }
        long t2 = System.nanoTime();
        double sum = 0;
        for (float v : r) {
            sum += v;
        }
        System.out.println("ort main->loaded " + (t1 - t0) / 1000 / 1000.0 + " ms, ->reconstructed " + (t2 - t0) / 1000 / 1000.0
                + " ms, sum " + sum);
    }
}
