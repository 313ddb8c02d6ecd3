import java.nio.file.Path;
import org.latent4j.model.LatentModel;
import org.latent4j.model.Models;

/** An embedding app's cold start: load a latent4j model file, reconstruct one row, print the times. */
public final class ColdStart {
    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        LatentModel m = Models.load(Path.of(args[0]));
        long t1 = System.nanoTime();
        float[][] x = new float[1][784];
        for (int i = 0; i < 784; i++) {
            x[0][i] = (i % 255) / 255f;
        }
        float[][] r = m.reconstruct(x);
        long t2 = System.nanoTime();
        double sum = 0;
        for (float v : r[0]) {
            sum += v;
        }
        // ColdStart MODEL K: K more reconstructs, each timed (where the first one's time goes)
        StringBuilder more = new StringBuilder();
        for (int k = 0; k < (args.length > 1 ? Integer.parseInt(args[1]) : 0); k++) {
            long u = System.nanoTime();
            m.reconstruct(x);
            more.append(k == 0 ? ", then" : "").append(' ').append((System.nanoTime() - u) / 1000 / 1000.0);
        }
        System.out.println("latent4j main->loaded " + (t1 - t0) / 1000 / 1000.0 + " ms, ->reconstructed " + (t2 - t0) / 1000 / 1000.0
                + " ms, sum " + sum + more);
    }
}
