package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.latent4j.data.Dataset;
import org.latent4j.data.FashionMnist;

/**
 * What the view tests share: one small run trained once per JVM by the CLI itself (train on the
 * bundled Fashion-MNIST slice, 2 epochs, 784-32-3 VAE), and a raw HTTP/1.1 client that sends
 * exactly the bytes it is given (no client library normalizes "../" or escapes for us).
 */
final class ViewFixture {
    private ViewFixture() {}

    static final int EPOCHS = 2;
    private static Path run;

    /** The run folder (model.safetensors, metrics.json, checkpoint.safetensors), trained on first use. */
    static synchronized Path run() throws IOException {
        if (run == null) {
            Path root = Files.createTempDirectory("latent4j-view-test");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(root)));
            Path dir = root.resolve("run");
            MainTest.Run r = MainTest.run("train", "--epochs", Integer.toString(EPOCHS), "--layers", "32", "--latent", "3",
                    "--threads", "1", "--out", dir.toString());
            assertEquals(0, r.code(), r.err());
            run = dir;
        }
        return run;
    }

    /** The bundled test images: the rows the run page reconstructs (its data is the bundled slice). */
    static Dataset testRows() {
        return FashionMnist.bundledTest();
    }

    static float[][] rows(Dataset d, int n) {
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) {
            x[i] = d.row(i);
        }
        return x;
    }

    static void delete(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // best effort
        }
    }

    /** An answer: status code and body text. */
    record Answer(int status, String body, String headers) {}

    /** Sends the request head (and body) exactly as given and reads the whole answer (Connection: close). */
    static Answer raw(URI server, String head, byte[] body) throws IOException {
        try (Socket s = new Socket(server.getHost(), server.getPort())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) {
                try {
                    out.write(body);
                } catch (IOException e) {
                    // the server may answer and close before it has read a body it refuses
                }
            }
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int headEnd = -1;
            long length = -1;
            try {
                // Until the declared length is read (the server may keep the connection to drain a refused body), or the end.
                for (int k; (headEnd < 0 || length < 0 || all.size() < headEnd + 4 + length) && (k = in.read(buf)) >= 0; ) {
                    all.write(buf, 0, k);
                    String t = all.toString(StandardCharsets.ISO_8859_1);
                    if (headEnd < 0 && (headEnd = t.indexOf("\r\n\r\n")) >= 0) {
                        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(t.substring(0, headEnd));
                        length = m.find() ? Long.parseLong(m.group(1)) : -1;
                    }
                }
            } catch (java.net.SocketException e) {
                // a reset after the answer (the server closed with an unread body)
            }
            String text = all.toString(StandardCharsets.UTF_8);
            int end = text.indexOf("\r\n\r\n");
            String headers = end < 0 ? text : text.substring(0, end);
            String[] first = headers.split("\r\n")[0].split(" ");
            int status = first.length > 1 ? Integer.parseInt(first[1]) : -1;
            return new Answer(status, end < 0 ? "" : text.substring(end + 4), headers);
        }
    }

    /** GET target with a correct Host header. */
    static Answer get(URI server, String target) throws IOException {
        return raw(server, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + server.getPort() + "\r\nConnection: close\r\n\r\n", null);
    }

    /** POST a JSON body. */
    static Answer post(URI server, String target, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return raw(server, "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + server.getPort() + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + b.length + "\r\nConnection: close\r\n\r\n", b);
    }

    /** A JSON list of numbers as floats. */
    static float[] floats(Object list) {
        List<?> l = (List<?>) list;
        float[] f = new float[l.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (double) (Double) l.get(i);
        }
        return f;
    }
}
