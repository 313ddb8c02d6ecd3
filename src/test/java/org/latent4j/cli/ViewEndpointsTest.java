package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.Json;
import org.latent4j.model.AnomalyDetector;
import org.latent4j.model.LatentModel;
import org.latent4j.model.LatentProjection;
import org.latent4j.model.Models;
import org.latent4j.train.Checkpoint;
import org.latent4j.train.EpochStats;

/**
 * The view server's endpoints on their own, over raw sockets: what the run page and the explorer
 * read equals what the files and the Java API say, and bad requests (unknown and traversing
 * paths in plain and encoded forms, huge bodies and targets, wrong methods, bad JSON, a foreign
 * Host) get a 4xx with one line of JSON and no stack trace; a missing or damaged model file is one
 * line from the command.
 */
class ViewEndpointsTest {
    static Path run;
    static LatentModel model;
    static Dataset rows;
    static ViewServer explorer, runPage;

    @BeforeAll
    static void start() throws Exception {
        run = ViewFixture.run();
        model = Models.load(run.resolve("model.safetensors"));
        rows = ViewFixture.testRows();
        explorer = ViewCommand.explorer(LatentView.open(run.resolve("model.safetensors"), rows, rows.labels(), null, null, 300),
                "127.0.0.1", 0);
        runPage = ViewCommand.runPage(run, null, new SharedOptions.Columns(), null, "127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        explorer.close();
        runPage.close();
    }

    static Map<?, ?> json(ViewFixture.Answer a) {
        assertEquals(200, a.status(), a.body());
        return (Map<?, ?>) Json.parse(a.body());
    }

    /** A 4xx answer: the status wanted, one line of JSON {"error": ...} naming the problem, no trace. */
    static void refused(ViewFixture.Answer a, int status, String mustContain) {
        assertEquals(status, a.status(), a.headers() + "\n" + a.body());
        if (status == 400 && a.body().startsWith("<h1>400 Bad Request</h1>")) {
            // The JDK server's own answer to a request line that is no URI (a backslash): before any handler, no trace.
            assertFalse(a.body().contains("\tat ") || a.body().contains("org.latent4j."), a.body());
            return;
        }
        assertFalse(a.body().contains("Exception") || a.body().contains("\tat ") || a.body().contains("org.latent4j."), a.body());
        assertEquals(1, a.body().strip().lines().count(), a.body());
        if (a.body().isEmpty()) {
            return;
        }
        Object err = ((Map<?, ?>) Json.parse(a.body())).get("error");
        assertTrue(err instanceof String s && s.contains(mustContain), "'" + mustContain + "' in " + a.body());
    }

    @Test
    void runEndpointGivesTheEpochsOfMetricsJson() throws Exception {
        Map<?, ?> state = json(ViewFixture.get(runPage.address(), "/api/run"));
        assertEquals("finished", state.get("status"));
        Map<?, ?> metrics = (Map<?, ?>) Json.parse(Files.readString(run.resolve("metrics.json")));
        List<?> h = (List<?>) state.get("history"), m = (List<?>) metrics.get("history");
        assertEquals(ViewFixture.EPOCHS, h.size());
        for (int i = 0; i < h.size(); i++) {
            Map<?, ?> e = (Map<?, ?>) h.get(i), f = (Map<?, ?>) m.get(i);
            assertEquals((double) (i + 1), e.get("epoch"));
            for (String k : new String[] {"train_neg_elbo", "test_neg_elbo", "train_kl", "test_reconstruction", "active_units"}) {
                assertEquals(f.get(k), e.get(k), k);
            }
            assertEquals(3, ((List<?>) e.get("kl_per_dimension")).size());
        }
        // The reconstructions are the model's of the first rows of the run's data (the bundled test slice).
        Map<?, ?> rec = json(ViewFixture.get(runPage.address(), "/api/reconstructions"));
        assertEquals(28.0, rec.get("width"));
        assertEquals((double) ViewFixture.EPOCHS, rec.get("epoch"));
        float[][] x = ViewFixture.rows(rows, RunView.ROWS), r = model.reconstruct(x);
        List<?> in = (List<?>) rec.get("inputs"), out = (List<?>) rec.get("outputs");
        assertEquals(RunView.ROWS, out.size());
        for (int i = 0; i < RunView.ROWS; i++) {
            assertArrayEquals(x[i], ViewFixture.floats(in.get(i)));
            assertArrayEquals(r[i], ViewFixture.floats(out.get(i)), "row " + i);
        }
    }

    @Test
    void aRunStillTrainingIsReadFromItsCheckpointAndFollowedToTheEnd(@TempDir Path dir) throws Exception {
        try (ViewServer s = ViewCommand.runPage(dir, null, new SharedOptions.Columns(), 7, "127.0.0.1", 0)) {
            Map<?, ?> waiting = json(ViewFixture.get(s.address(), "/api/run"));
            assertEquals("waiting", waiting.get("status"));
            assertEquals(List.of(), waiting.get("history"));
            assertTrue(((String) json(ViewFixture.get(s.address(), "/api/reconstructions")).get("message")).contains("no model yet"));

            // The first epoch's checkpoint appears: the page now reads the history and the model from it.
            Files.copy(run.resolve("checkpoint.safetensors"), dir.resolve("checkpoint.safetensors"));
            Map<?, ?> training = json(ViewFixture.get(s.address(), "/api/run"));
            assertEquals("training", training.get("status"));
            assertEquals(7.0, training.get("epochs_planned"));
            List<EpochStats> truth = Checkpoint.read(dir.resolve("checkpoint.safetensors")).history();
            List<?> h = (List<?>) training.get("history");
            assertEquals(truth.size(), h.size());
            for (int i = 0; i < h.size(); i++) {
                Map<?, ?> e = (Map<?, ?>) h.get(i);
                assertEquals(truth.get(i).trainNegElbo(), (Double) e.get("train_neg_elbo"), 0);
                assertEquals(truth.get(i).validationKl(), (Double) e.get("test_kl"), 0);
                assertEquals(truth.get(i).activeUnits(), ((Double) e.get("active_units")).intValue());
            }
            Map<?, ?> rec = json(ViewFixture.get(s.address(), "/api/reconstructions"));
            float[][] r = Models.load(dir.resolve("checkpoint.safetensors")).reconstruct(ViewFixture.rows(rows, RunView.ROWS));
            assertArrayEquals(r[3], ViewFixture.floats(((List<?>) rec.get("outputs")).get(3)));

            // Training ends: metrics.json and the model are written; the page says finished.
            Files.copy(run.resolve("model.safetensors"), dir.resolve("model.safetensors"));
            Files.copy(run.resolve("metrics.json"), dir.resolve("metrics.json"));
            assertEquals("finished", json(ViewFixture.get(s.address(), "/api/run")).get("status"));
        }
    }

    @Test
    void aDamagedMetricsFileIsOneLineNotATrace(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("metrics.json"), "{\"epochs\": 3, \"history\": [");
        try (ViewServer s = ViewCommand.runPage(dir, null, new SharedOptions.Columns(), null, "127.0.0.1", 0)) {
            refused(ViewFixture.get(s.address(), "/api/run"), 500, "metrics.json: not JSON");
        }
    }

    @Test
    void theMapAndTheDecodesAreTheJavaApis() throws Exception {
        Map<?, ?> info = json(ViewFixture.get(explorer.address(), "/api/model"));
        assertEquals(3.0, info.get("latent_dim"));
        List<?> pts = (List<?>) info.get("points");
        assertEquals(300, pts.size());
        float[][] x = ViewFixture.rows(rows, 300);
        float[][] plane = LatentProjection.twoDimensions(model.encode(x));
        for (int i = 0; i < pts.size(); i += 37) {
            assertArrayEquals(plane[i], ViewFixture.floats(pts.get(i)), 1e-5f, "point " + i);
        }
        // A map point stands for mean + u c1 + v c2: projecting that code again gives (u, v) back.
        List<?> mean = (List<?>) info.get("mean"), comps = (List<?>) info.get("components");
        double u = 0.7, v = -1.3;
        float[] z = new float[3];
        double pu = 0, pv = 0;
        for (int j = 0; j < 3; j++) {
            double c1 = (Double) ((List<?>) comps.get(0)).get(j), c2 = (Double) ((List<?>) comps.get(1)).get(j);
            z[j] = (float) ((Double) mean.get(j) + u * c1 + v * c2);
        }
        for (int j = 0; j < 3; j++) {
            pu += (z[j] - (Double) mean.get(j)) * (Double) ((List<?>) comps.get(0)).get(j);
            pv += (z[j] - (Double) mean.get(j)) * (Double) ((List<?>) comps.get(1)).get(j);
        }
        assertEquals(u, pu, 1e-5);
        assertEquals(v, pv, 1e-5);

        float[][] codes = {z, {0.1f, -0.2f, 0.3f}, model.encode(new float[][] {x[5]})[0]};
        Map<?, ?> dec = json(ViewFixture.post(explorer.address(), "/api/decode", Json.write(Map.of("codes", List.of(
                LatentView.floats(codes[0]), LatentView.floats(codes[1]), LatentView.floats(codes[2]))))));
        float[][] want = model.decode(codes);
        List<?> got = (List<?>) dec.get("outputs");
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(want[i], ViewFixture.floats(got.get(i)), "code " + i);
        }
        assertTrue((Double) dec.get("decode_ms") >= 0);

        Map<?, ?> strip = json(ViewFixture.post(explorer.address(), "/api/interpolate", Json.write(Map.of("a", LatentView.floats(codes[1]),
                "b", LatentView.floats(codes[2]), "steps", 5, "how", "spherical"))));
        float[][] walk = model.decode(LatentModel.interpolateCodes(codes[1], codes[2], 5, LatentModel.Interpolation.SPHERICAL));
        assertEquals(5, ((List<?>) strip.get("outputs")).size());
        assertArrayEquals(walk[2], ViewFixture.floats(((List<?>) strip.get("outputs")).get(2)));

        Map<?, ?> row = json(ViewFixture.get(explorer.address(), "/api/row?i=5"));
        assertArrayEquals(codes[2], ViewFixture.floats(row.get("code")));
        assertEquals((double) rows.labels()[5], row.get("label"));
    }

    @Test
    void aDetectorFileGivesScoresAndEachRowsContributions(@TempDir Path dir) throws Exception {
        Path det = dir.resolve("detector.safetensors");
        float[][] x = ViewFixture.rows(rows, 120);
        AnomalyDetector d = AnomalyDetector.of(model, AnomalyDetector.Score.MSE, 1, 3).calibrate(x, AnomalyDetector.Rule.PERCENTILE, 90);
        d.save(det);
        try (ViewServer s = ViewCommand.explorer(LatentView.open(det, rows, null, null, null, 120), "127.0.0.1", 0)) {
            Map<?, ?> info = json(ViewFixture.get(s.address(), "/api/model"));
            assertEquals(d.threshold(), (Double) ((Map<?, ?>) info.get("detector")).get("threshold"), 0);
            double[] scores = d.score(x);
            List<?> got = (List<?>) info.get("scores");
            assertEquals(120, got.size());
            assertEquals(scores[17], (Double) got.get(17), 1e-12 * Math.abs(scores[17]));
            Map<?, ?> row = json(ViewFixture.get(s.address(), "/api/row?i=17"));
            double[] c = d.contributions(new float[][] {x[17]})[0];
            List<?> gc = (List<?>) row.get("contributions");
            double sum = 0;
            for (int j = 0; j < c.length; j++) {
                assertEquals(c[j], (Double) gc.get(j), 1e-12 + 1e-9 * Math.abs(c[j]), "feature " + j);
                sum += (Double) gc.get(j);
            }
            assertEquals(scores[17], sum, 1e-9 * scores[17]);   // MSE parts sum to the row's score
        }
    }

    @Test
    void pathsOutsideTheListAndTraversalsInEveryFormAreRefused() throws Exception {
        URI a = explorer.address();
        assertEquals(200, ViewFixture.get(a, "/static/view.css").status());   // the control: a listed asset is served
        assertTrue(ViewFixture.get(a, "/").body().contains("/static/explorer.js"));
        for (String bad : new String[] {"/../pom.xml", "/static/../../pom.xml", "/static/%2e%2e/%2e%2e/pom.xml", "/static/..%2fview.css",
            "/static/%2E%2E%2F%2E%2E%2Fpom.xml", "/%252e%252e/pom.xml", "/static/..\\..\\pom.xml", "/static/./view.css",
            "/static//view.css", "/static/view.css/..", "/static/..;/pom.xml", "/static/%c0%ae%c0%ae/pom.xml"}) {
            refused(ViewFixture.get(a, bad), 400, "bad path");
        }
        for (String unknown : new String[] {"/static/nope.js", "/static/", "/api/nope", "/pom.xml", "/index.html", "/static/run.java",
            "/etc/passwd", "/static/view.css;x"}) {
            refused(ViewFixture.get(a, unknown), 404, "no such page");
        }
        refused(ViewFixture.get(a, "/api/row?i=-1"), 400, "outside 0..299");
        refused(ViewFixture.get(a, "/api/row?i=300"), 400, "outside 0..299");
        refused(ViewFixture.get(a, "/api/row?i=../../x"), 400, "whole number");
        refused(ViewFixture.get(a, "/api/row"), 400, "missing query parameter i");
    }

    @Test
    void hugeTargetsAndBodiesWrongMethodsAndBadJsonGet4xx() throws Exception {
        URI a = explorer.address();
        refused(ViewFixture.get(a, "/api/model?pad=" + "x".repeat(5000)), 414, "longer than 2048");
        // A declared 100 MB body is refused before it is read.
        refused(ViewFixture.raw(a, "POST /api/decode HTTP/1.1\r\nHost: 127.0.0.1:" + a.getPort() + "\r\nContent-Length: 100000000\r\n"
                + "Connection: close\r\n\r\n", new byte[1000]), 413, "at most 65536");
        // An undeclared (chunked) body larger than the limit is cut off at the limit.
        StringBuilder chunked = new StringBuilder();
        String chunk = "{".repeat(4000);
        for (int i = 0; i < 20; i++) {
            chunked.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
        }
        chunked.append("0\r\n\r\n");
        refused(ViewFixture.raw(a, "POST /api/decode HTTP/1.1\r\nHost: 127.0.0.1:" + a.getPort() + "\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n", chunked.toString().getBytes(StandardCharsets.US_ASCII)), 413, "larger than 65536");
        refused(ViewFixture.raw(a, "PUT /api/decode HTTP/1.1\r\nHost: 127.0.0.1:" + a.getPort() + "\r\nContent-Length: 2\r\n"
                + "Connection: close\r\n\r\n", "{}".getBytes(StandardCharsets.US_ASCII)), 405, "PUT is not allowed");
        refused(ViewFixture.raw(a, "DELETE / HTTP/1.1\r\nHost: 127.0.0.1:" + a.getPort() + "\r\nConnection: close\r\n\r\n", null), 405,
                "DELETE");
        refused(ViewFixture.post(a, "/api/model", "{}"), 405, "POST is not allowed");
        refused(ViewFixture.get(a, "/api/decode"), 405, "GET is not allowed");
        refused(ViewFixture.post(a, "/api/decode", "{\"codes\": [[1, 2"), 400, "not JSON");
        refused(ViewFixture.post(a, "/api/decode", "[1]"), 400, "must be a JSON object");
        refused(ViewFixture.post(a, "/api/decode", "{\"codes\": [[1, 2]]}"), 400, "codes[0] must be a list of 3 numbers");
        refused(ViewFixture.post(a, "/api/decode", "{\"codes\": [[1, \"x\", 2]]}"), 400, "codes[0][1] must be a finite number");
        refused(ViewFixture.post(a, "/api/decode", "{\"codes\": [[1, 1e300, 2]]}"), 400, "codes[0][1] must be a finite number");
        refused(ViewFixture.post(a, "/api/decode", "{\"codes\": []}"), 400, "1 to 64 codes");
        refused(ViewFixture.post(a, "/api/decode", "{\"codes\": [" + "[0,0,0],".repeat(64) + "[0,0,0]]}"), 400, "1 to 64 codes");
        refused(ViewFixture.post(a, "/api/decode", "[".repeat(5000) + "]".repeat(5000)), 400, "not JSON");
        refused(ViewFixture.post(a, "/api/interpolate", "{\"a\": [0,0,0], \"b\": [1,1,1], \"steps\": 1000}"), 400, "'steps'");
        refused(ViewFixture.post(a, "/api/interpolate", "{\"a\": [0,0,0], \"b\": [1,1,1], \"steps\": 4, \"how\": \"wiggly\"}"), 400,
                "'how'");
        // A page elsewhere reaching the port through its own host name (DNS rebinding) is turned away.
        refused(ViewFixture.raw(a, "GET /api/model HTTP/1.1\r\nHost: evil.example:" + a.getPort() + "\r\nConnection: close\r\n\r\n", null),
                403, "127.0.0.1:" + a.getPort());
        // Headers beyond 32 KiB: the JDK server refuses them (or drops the connection) before any handler.
        ViewFixture.Answer big = ViewFixture.raw(a, "GET /api/model HTTP/1.1\r\nHost: 127.0.0.1:" + a.getPort() + "\r\nX-Pad: "
                + "y".repeat(40_000) + "\r\nConnection: close\r\n\r\n", null);
        assertTrue(big.status() == -1 || big.status() >= 400, big.headers());
        // The server still answers well after all of that.
        assertEquals(200, ViewFixture.get(a, "/api/model").status());
    }

    @Test
    void everyAssetIsServedByTheServerItself() throws Exception {
        ViewFixture.Answer page = ViewFixture.get(explorer.address(), "/");
        assertTrue(page.headers().toLowerCase(java.util.Locale.ROOT).contains("content-security-policy: default-src 'self'"), page.headers());
        for (String name : ViewServer.ASSETS) {
            String text = ViewFixture.get(explorer.address(), "/static/" + name).body();
            assertFalse(text.isEmpty(), name);
            // No address off the server: the only "http" is the SVG namespace.
            assertEquals(0, text.replace("http://www.w3.org/2000/svg", "").split("https?://", -1).length - 1, name);
            assertFalse(text.contains("//cdn") || text.contains("@import"), name);
        }
    }

    @Test
    void aMissingOrDamagedModelOrRunIsOneLine(@TempDir Path dir) throws Exception {
        CliErrorsTest.oneLine(MainTest.run("view", "--model", dir.resolve("nope.safetensors").toString()), "nope.safetensors: no such file");
        Path junk = Files.write(dir.resolve("junk.safetensors"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        CliErrorsTest.oneLine(MainTest.run("view", "--model", junk.toString()), "junk.safetensors");
        CliErrorsTest.oneLine(MainTest.run("view", dir.resolve("no-run").toString()), "no-run: no such run folder");
        CliErrorsTest.oneLine(MainTest.run("view"), "give a run folder");
        CliErrorsTest.oneLine(MainTest.run("view", "--model", run.resolve("model.safetensors").toString(), "--port", "70000"), "--port");
        CliErrorsTest.oneLine(MainTest.run("view", "--model", run.resolve("model.safetensors").toString(), "--data",
                dir.resolve("none.csv").toString()), "none.csv: no such file");
    }

    @Test
    void trainWithViewServesThePageWhileItTrainsAndClosesItAfter(@TempDir Path dir) throws Exception {
        MainTest.Run r = MainTest.run("train", "--view", "--epochs", "1", "--layers", "16", "--latent", "2", "--threads", "1",
                "--out", dir.resolve("run").toString());
        assertEquals(0, r.code(), r.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("view: the run's page is at (http://127\\.0\\.0\\.1:(\\d+)/)")
                .matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Files.isRegularFile(dir.resolve("run/metrics.json")));
        // Without a terminal the command ends with training, and the page with it.
        URI a = URI.create(m.group(1));
        assertTrue(assertThrowsIo(() -> ViewFixture.get(a, "/api/run")), "the server is closed after training");
    }

    interface Io {
        void run() throws java.io.IOException;
    }

    static boolean assertThrowsIo(Io call) {
        try {
            call.run();
            return false;
        } catch (java.io.IOException e) {
            return true;
        }
    }
}
