package org.latent4j.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.latent4j.dsl.Json;

/**
 * Debian's chromium, headless, driven over the Chrome DevTools protocol (its websocket, with
 * java.net.http.WebSocket): a fresh profile per instance, no network of its own, pages that are
 * navigated, evaluated, clicked and photographed. Test code only.
 */
final class HeadlessChromium implements AutoCloseable {
    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<Map<?, ?>>> waiting = new ConcurrentHashMap<>();

    /** The chromium binary: $CHROMIUM, /usr/bin/chromium, or chromium on the PATH; null when there is none. */
    static Path binary() {
        List<Path> c = new ArrayList<>();
        if (System.getenv("CHROMIUM") != null) {
            c.add(Path.of(System.getenv("CHROMIUM")));
        }
        c.add(Path.of("/usr/bin/chromium"));
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty()) {
                c.add(Path.of(dir, "chromium"));
            }
        }
        return c.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    HeadlessChromium(Path binary, Path work) throws IOException, InterruptedException {
        profile = Files.createTempDirectory(work, "chromium-profile");
        Path log = work.resolve("chromium.log");
        process = new ProcessBuilder(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
                "--user-data-dir=" + profile, "--remote-debugging-port=0", "about:blank")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Path port = profile.resolve("DevToolsActivePort");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> lines = List.of();
        while (System.nanoTime() < deadline && process.isAlive()) {
            if (Files.exists(port) && (lines = Files.readAllLines(port)).size() >= 2) {
                break;
            }
            Thread.sleep(100);
        }
        if (lines.size() < 2) {
            close();
            throw new IOException("chromium did not open its DevTools port in 60 s; its log: " + Files.readString(log));
        }
        URI ws = URI.create("ws://127.0.0.1:" + lines.get(0).strip() + lines.get(1).strip());
        socket = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(ws, new WebSocket.Listener() {
            private final StringBuilder text = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                text.append(data);
                if (last) {
                    Map<?, ?> msg = (Map<?, ?>) Json.parse(text.toString());
                    text.setLength(0);
                    if (msg.get("id") instanceof Double id) {
                        CompletableFuture<Map<?, ?>> f = waiting.remove(id.intValue());
                        if (f != null) {
                            f.complete(msg);
                        }
                    }
                }
                w.request(1);
                return null;
            }
        }).join();
    }

    /** Sends one DevTools command (to a page when sessionId is given) and returns its result; an error throws. */
    Map<?, ?> send(String method, Map<String, Object> params, String sessionId) {
        int id = ids.incrementAndGet();
        CompletableFuture<Map<?, ?>> f = new CompletableFuture<>();
        waiting.put(id, f);
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("id", id);
        msg.put("method", method);
        msg.put("params", params);
        if (sessionId != null) {
            msg.put("sessionId", sessionId);
        }
        socket.sendText(Json.write(msg), true).join();
        Map<?, ?> answer = f.orTimeout(60, TimeUnit.SECONDS).join();
        if (answer.get("error") != null) {
            throw new IllegalStateException(method + ": " + answer.get("error"));
        }
        return (Map<?, ?>) answer.get("result");
    }

    /** A new tab of width x height CSS pixels. */
    Page newPage(int width, int height) {
        String target = (String) send("Target.createTarget", Map.of("url", "about:blank"), null).get("targetId");
        String session = (String) send("Target.attachToTarget", Map.of("targetId", target, "flatten", true), null).get("sessionId");
        Page p = new Page(session);
        p.send("Page.enable", Map.of());
        p.send("Runtime.enable", Map.of());
        p.send("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height, "deviceScaleFactor", 1, "mobile", false));
        return p;
    }

    /** One tab. */
    final class Page {
        private final String session;

        Page(String session) {
            this.session = session;
        }

        Map<?, ?> send(String method, Map<String, Object> params) {
            return HeadlessChromium.this.send(method, params, session);
        }

        void navigate(URI url) {
            send("Page.navigate", Map.of("url", url.toString()));
        }

        /** The value of a JavaScript expression (awaited when it is a promise); a thrown error fails. */
        Object eval(String js) {
            Map<?, ?> r = send("Runtime.evaluate", Map.of("expression", js, "returnByValue", true, "awaitPromise", true));
            if (r.get("exceptionDetails") != null) {
                throw new IllegalStateException("page error in " + js + ": " + r.get("exceptionDetails"));
            }
            return ((Map<?, ?>) r.get("result")).get("value");
        }

        /** Waits until the expression is true, at most the given seconds. */
        void waitFor(String js, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                if (Boolean.TRUE.equals(eval("(() => { try { return !!(" + js + "); } catch (e) { return false; } })()"))) {
                    return;
                }
                Thread.sleep(50);
            }
            throw new AssertionError("the page did not reach " + js + " in " + seconds + " s; its errors: "
                    + eval("JSON.stringify((window.latent4jView || window.latent4jRun || {}).errors || [])"));
        }

        private void mouse(String type, double x, double y, boolean shift) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", type);
            m.put("x", x);
            m.put("y", y);
            m.put("button", "left");
            m.put("buttons", type.equals("mouseReleased") ? 0 : 1);
            m.put("clickCount", 1);
            m.put("modifiers", shift ? 8 : 0);
            send("Input.dispatchMouseEvent", m);
        }

        /** A left click at (x, y) in CSS pixels of the viewport, with shift held or not. */
        void click(double x, double y, boolean shift) {
            mouse("mousePressed", x, y, shift);
            mouse("mouseReleased", x, y, shift);
        }

        /** A press at (x0, y0), moves in the given steps, a release at (x1, y1). */
        void drag(double x0, double y0, double x1, double y1, int steps) throws InterruptedException {
            mouse("mousePressed", x0, y0, false);
            for (int i = 1; i <= steps; i++) {
                mouse("mouseMoved", x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps, false);
                Thread.sleep(10);
            }
            mouse("mouseReleased", x1, y1, false);
        }

        /** A PNG of the whole page (beyond the viewport too). */
        void screenshot(Path png) throws IOException {
            Map<?, ?> r = send("Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true));
            Files.createDirectories(png.getParent());
            Files.write(png, Base64.getDecoder().decode((String) r.get("data")));
        }
    }

    @Override
    public void close() {
        try {
            if (socket != null) {
                // Not waited for: the browser may exit before it answers.
                socket.sendText("{\"id\":" + ids.incrementAndGet() + ",\"method\":\"Browser.close\",\"params\":{}}", true)
                        .get(5, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            // gone already
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        ViewFixture.delete(profile);
    }
}
