package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.latent4j.data.Dataset;
import org.latent4j.dsl.Json;
import org.latent4j.model.LatentModel;
import org.latent4j.model.Models;

/**
 * The two pages in a real browser (headless Debian chromium over the DevTools protocol; skipped
 * where chromium is not installed): the run page draws the run's epochs with metrics.json's values,
 * and follows a run that trains (waiting, then each checkpoint, then finished);
 * a click on a row's dot in the explorer shows the decode of that row's code, a drag to an empty
 * spot the decode of the code that map point stands for, pixel for pixel the grey levels of the
 * Java API's {@code decode} of the same code; a shift-click draws the interpolation strip. The
 * screenshots stay in target/view-screenshots/.
 */
class ViewBrowserTest {
    static final Path SHOTS = Path.of("target", "view-screenshots");

    /** The grey level the page draws a value with (plot.js grey, for [lo, hi] = [0, 1]). */
    static int grey(float v) {
        return (int) Math.round(255 * Math.min(1, Math.max(0, (double) v)));
    }

    static float[] floats(Object o) {
        return ViewFixture.floats(o);
    }

    /** The page's grey levels equal the Java decode's: none more than 1 apart (a last-digit tie of the float's decimal), almost all equal. */
    static void sameImage(Object pageGreys, float[] decoded, String what) {
        List<?> g = (List<?>) pageGreys;
        assertNotNull(g, what + ": the page shows no decoded image");
        assertEquals(decoded.length, g.size(), what);
        int off = 0;
        for (int i = 0; i < decoded.length; i++) {
            int d = Math.abs(((Double) g.get(i)).intValue() - grey(decoded[i]));
            assertTrue(d <= 1, what + ": pixel " + i + " is " + g.get(i) + " on the page but " + grey(decoded[i]) + " from the Java API");
            off += d;
        }
        assertTrue(off <= 3, what + ": " + off + " pixels differ by one grey level");
    }

    @Test
    void theRunPageAndTheExplorerInHeadlessChromium(@TempDir Path work) throws Exception {
        Path chromium = HeadlessChromium.binary();
        assumeTrue(chromium != null, "chromium is not installed (Debian: apt-get install chromium; .ci/run installs it): the browser"
                + " test is skipped");
        Path run = ViewFixture.run();
        LatentModel model = Models.load(run.resolve("model.safetensors"));
        Dataset data = ViewFixture.testRows();
        LatentView view = LatentView.open(run.resolve("model.safetensors"), data, data.labels(),
                org.latent4j.data.FashionMnist.CLASSES, null, 1000);
        Map<?, ?> metrics = (Map<?, ?>) Json.parse(Files.readString(run.resolve("metrics.json")));
        try (ViewServer runPage = ViewCommand.runPage(run, null, new SharedOptions.Columns(), null, "127.0.0.1", 0);
             ViewServer explorer = ViewCommand.explorer(view, "127.0.0.1", 0);
             HeadlessChromium browser = new HeadlessChromium(chromium, work)) {
            HeadlessChromium.Page page = browser.newPage(1250, 1100);

            // The run page: one point per epoch of metrics.json on each curve, at its values; 8 + 8 reconstructions.
            page.navigate(runPage.address());
            page.waitFor("window.latent4jRun.recon && document.querySelectorAll('#recon canvas').length === 16", 60);
            List<?> h = (List<?>) metrics.get("history");
            for (String series : new String[] {"train_neg_elbo", "test_neg_elbo", "train_reconstruction", "train_kl", "test_kl"}) {
                String sel = "[...document.querySelectorAll('g.series[data-series=" + series + "] circle.point')]";
                List<?> xs = (List<?>) page.eval(sel + ".map(c => Number(c.dataset.x))");
                List<?> ys = (List<?>) page.eval(sel + ".map(c => Number(c.dataset.y))");
                assertEquals(h.size(), xs.size(), series);
                for (int e = 0; e < h.size(); e++) {
                    assertEquals((double) (e + 1), ((Number) xs.get(e)).doubleValue(), series);
                    assertEquals((Double) ((Map<?, ?>) h.get(e)).get(series), ((Number) ys.get(e)).doubleValue(), 0, series + " epoch " + (e + 1));
                }
            }
            assertEquals(3.0, ((Number) page.eval("document.querySelectorAll('#kl rect.bar').length")).doubleValue());
            page.screenshot(SHOTS.resolve("run-page.png"));

            // A run that is training: the page waits, then follows each checkpoint, then the finished run.
            Path live = work.resolve("live");
            Files.createDirectories(live);
            try (ViewServer livePage = ViewCommand.runPage(live, null, new SharedOptions.Columns(), 9, "127.0.0.1", 0)) {
                page.navigate(livePage.address());
                page.waitFor("window.latent4jRun.state && latent4jRun.state.status === 'waiting'", 30);
                assertEquals("waiting", page.eval("document.getElementById('status').textContent"));
                Files.copy(run.resolve("checkpoint.safetensors"), live.resolve("checkpoint.safetensors"));
                page.waitFor("document.getElementById('status').textContent === 'training'"
                        + " && document.querySelectorAll('#recon canvas').length === 16", 30);
                assertEquals((double) h.size(), ((Number) page.eval("document.querySelectorAll("
                        + "'g.series[data-series=train_neg_elbo] circle.point').length")).doubleValue());
                assertTrue(((String) page.eval("document.getElementById('summary').textContent")).contains("of 9"));
                Files.copy(run.resolve("model.safetensors"), live.resolve("model.safetensors"));
                Files.copy(run.resolve("metrics.json"), live.resolve("metrics.json"));
                page.waitFor("document.getElementById('status').textContent === 'finished'", 30);
            }

            // The explorer: nothing decoded until a click.
            page.navigate(explorer.address());
            page.waitFor("window.latent4jView && latent4jView.ready", 60);
            assertNull(page.eval("latent4jView.decodedGreys()"));
            assertEquals(1000.0, ((Number) page.eval("latent4jView.info.points.length")).doubleValue());

            // A click on row 5's dot: the page shows the decode of that row's code.
            List<?> at = (List<?>) page.eval("latent4jView.screenOf(5)");
            double x = ((Number) at.get(0)).doubleValue(), y = ((Number) at.get(1)).doubleValue();
            page.click(x, y, false);
            page.waitFor("latent4jView.last && latent4jView.last.row !== null && latent4jView.rowShown === latent4jView.last.row", 30);
            Map<?, ?> clicked = (Map<?, ?>) page.eval("latent4jView.last");
            int row = ((Number) clicked.get("row")).intValue();
            List<?> rowAt = (List<?>) page.eval("latent4jView.screenOf(" + row + ")");
            assertTrue(Math.hypot(((Number) rowAt.get(0)).doubleValue() - x, ((Number) rowAt.get(1)).doubleValue() - y) <= 5,
                    "row " + row + "'s dot is where the click was");
            float[] code = model.encode(new float[][] {data.row(row)})[0];
            assertArrayEquals(code, floats(clicked.get("code")), "the page decoded row " + row + "'s own code");
            float[] decoded = model.decode(new float[][] {code})[0];
            Object shown = page.eval("latent4jView.decodedGreys()");
            sameImage(shown, decoded, "click on row " + row);

            // A drag to a spot of the map: the code that point stands for (mean + u c1 + v c2), decoded.
            List<?> corner = (List<?>) page.eval("(() => { const r = document.getElementById('map').getBoundingClientRect();"
                    + " return [Math.round(r.left + r.width * 0.85), Math.round(r.top + r.height * 0.12)]; })()"
                    + " /* mouse events carry whole CSS pixels */");
            double tx = ((Number) corner.get(0)).doubleValue(), ty = ((Number) corner.get(1)).doubleValue();
            page.drag(x, y, tx, ty, 8);
            List<?> target = (List<?>) page.eval("latent4jView.mapAt(" + tx + ", " + ty + ")");
            page.waitFor("latent4jView.last.row === null && latent4jView.seq > 1", 30);
            try {   // the last move's decode (one request in flight at a time, the latest move waiting)
                page.waitFor("Math.abs(latent4jView.last.map[0] - " + target.get(0) + ") < 1e-9 && Math.abs(latent4jView.last.map[1] - "
                        + target.get(1) + ") < 1e-9", 10);
            } catch (AssertionError e) {
                // the assertions below say where the page stopped
            }
            Map<?, ?> dragged = (Map<?, ?>) page.eval("latent4jView.last");
            List<?> mapped = (List<?>) dragged.get("map");
            assertEquals(((Number) target.get(0)).doubleValue(), ((Number) mapped.get(0)).doubleValue(), 1e-9, "the release point " + dragged);
            assertEquals(((Number) target.get(1)).doubleValue(), ((Number) mapped.get(1)).doubleValue(), 1e-9, "the release point");
            float[] there = floats(dragged.get("code"));
            float[] expected = view.codeAt(((Number) target.get(0)).doubleValue(), ((Number) target.get(1)).doubleValue());
            assertArrayEquals(expected, there, 1e-5f, "the code of the map point");
            float[] decodedThere = model.decode(new float[][] {there})[0];
            Object shownThere = page.eval("latent4jView.decodedGreys()");
            sameImage(shownThere, decodedThere, "drag to " + target);
            assertNotEquals(shown, shownThere, "the decoded image changed with the drag");

            // Shift-click on another row: the strip from the dragged point to that row's code, decoded in one batch.
            List<?> other = (List<?>) page.eval("latent4jView.screenOf(40)");
            page.click(((Number) other.get(0)).doubleValue(), ((Number) other.get(1)).doubleValue(), true);
            page.waitFor("latent4jView.strip && document.querySelectorAll('#strip canvas').length === 10", 30);
            Map<?, ?> strip = (Map<?, ?>) page.eval("latent4jView.strip");
            List<?> codes = (List<?>) strip.get("codes");
            assertArrayEquals(there, floats(codes.get(0)));
            float[][] walk = model.decode(LatentModel.interpolateCodes(there, floats(codes.get(9)), 10, LatentModel.Interpolation.LINEAR));
            List<?> outs = (List<?>) strip.get("outputs");
            for (int i = 0; i < 10; i++) {
                assertArrayEquals(walk[i], floats(outs.get(i)), "strip image " + i);
            }
            page.screenshot(SHOTS.resolve("explorer.png"));

            List<?> rt = (List<?>) page.eval("latent4jView.roundTripsMs");
            double[] ms = rt.stream().mapToDouble(v -> ((Number) v).doubleValue()).sorted().toArray();
            System.out.printf(java.util.Locale.ROOT, "view: %d decodes from the page, round trip median %.1f ms, max %.1f ms%n", ms.length,
                    ms[ms.length / 2], ms[ms.length - 1]);
            assertTrue(ms.length >= 2, Arrays.toString(ms));
        }
        assertTrue(Files.size(SHOTS.resolve("explorer.png")) > 10_000);
    }
}
