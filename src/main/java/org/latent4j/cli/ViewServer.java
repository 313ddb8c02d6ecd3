package org.latent4j.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.latent4j.dsl.Json;

/**
 * The local web server of {@code latent4j view} (the JDK's own com.sun.net.httpserver): one page,
 * its scripts and style from a fixed list of class-path resources, and a few JSON endpoints.
 *
 * <p>It is meant to be safe to leave running: it reads nothing the URL names (every path is
 * matched exactly against the list of routes and resources, so {@code ../} and its encoded forms
 * can reach no file), it only answers GET and HEAD (and POST on the endpoints that decode codes,
 * which change nothing), request targets are at most {@link #MAX_TARGET} characters and bodies
 * at most {@link #MAX_BODY} bytes, headers at most 32 KiB, a request whose Host header is not the loopback address it is
 * bound to is refused (a web page elsewhere cannot reach it by DNS rebinding), and every bad
 * request gets a 4xx status with a one-line message, never a stack trace. Responses forbid
 * scripts from anywhere but the server itself (Content-Security-Policy), so the page works
 * offline and cannot load a CDN by accident.
 */
final class ViewServer implements AutoCloseable {
    /** Longest request target (path and query) accepted, in characters. */
    static final int MAX_TARGET = 2048;
    /** Largest request body accepted, in bytes. */
    static final int MAX_BODY = 64 * 1024;

    static {
        // The JDK server's own bounds, unless set already: headers of at most 32 KiB, and a request or an
        // answer that takes over 30 s is cut off (a slow client cannot hold the few threads); no Nagle delay
        // (small answers would otherwise wait ~40 ms for the client's delayed ACK: a drag would not feel live).
        for (String[] p : new String[][] {{"sun.net.httpserver.maxReqHeaderSize", "32768"}, {"sun.net.httpserver.maxReqTime", "30"},
            {"sun.net.httpserver.maxRspTime", "30"}, {"sun.net.httpserver.nodelay", "true"}}) {
            if (System.getProperty(p[0]) == null) {
                System.setProperty(p[0], p[1]);
            }
        }
    }

    /** What a route answers: a JSON value (maps, lists, strings, numbers), or raw bytes of a type. */
    record Raw(byte[] bytes, String type) {}

    /** A request as a route sees it: the query parameters (decoded) and the body (POST only, else ""). */
    record Request(Map<String, String> query, String body) {
        /** An integer query parameter in [min, max]; a missing or bad one is a 400 naming it. */
        int intParam(String name, int min, int max) {
            String v = query.get(name);
            if (v == null) {
                throw new HttpError(400, "missing query parameter " + name);
            }
            try {
                int i = Integer.parseInt(v);
                if (i < min || i > max) {
                    throw new HttpError(400, "query parameter " + name + "=" + i + " is outside " + min + ".." + max);
                }
                return i;
            } catch (NumberFormatException e) {
                throw new HttpError(400, "query parameter " + name + " must be a whole number, got '" + shorten(v) + "'");
            }
        }

        /** The body parsed as a JSON object; a 400 naming the problem otherwise. */
        Map<?, ?> jsonBody() {
            Object o;
            try {
                o = Json.parse(body);
            } catch (IllegalArgumentException e) {
                throw new HttpError(400, "the request body is not JSON: " + e.getMessage());
            }
            if (!(o instanceof Map<?, ?> m)) {
                throw new HttpError(400, "the request body must be a JSON object");
            }
            return m;
        }
    }

    /** A route: answers a request or throws {@link HttpError} (or IllegalArgumentException, a 400). */
    interface Route {
        Object answer(Request r) throws IOException;
    }

    /** An error answered with its status and one line of text. */
    static final class HttpError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        HttpError(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** The resources the server may send (all under org/latent4j/cli/view/), by name. */
    static final List<String> ASSETS = List.of("run.html", "explorer.html", "view.css", "plot.js", "run.js", "explorer.js");

    private final HttpServer server;
    private final ExecutorService pool;
    private final Map<String, byte[]> assets = new LinkedHashMap<>();
    private final String page;
    private final Map<String, Route> gets, posts;
    private final boolean loopback;
    private final URI address;

    /**
     * Binds host:port (port 0: a free one) and starts serving {@code page} (one of {@link #ASSETS})
     * at "/", the assets at "/static/NAME", and the routes (paths like "/api/run").
     */
    ViewServer(String host, int port, String page, Map<String, Route> gets, Map<String, Route> posts) throws IOException {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be in 0..65535 (0: a free port), got " + port);
        }
        for (String name : ASSETS) {
            try (InputStream in = ViewServer.class.getResourceAsStream("view/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("the page's resource org/latent4j/cli/view/" + name + " is not on the class path");
                }
                assets.put(name, in.readAllBytes());
            }
        }
        if (!assets.containsKey(page)) {
            throw new IllegalArgumentException("no page " + page);
        }
        this.page = page;
        this.gets = Map.copyOf(gets);
        this.posts = Map.copyOf(posts);
        InetAddress bind;
        try {
            bind = InetAddress.getByName(host);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("--host " + host + ": unknown host");
        }
        this.loopback = bind.isLoopbackAddress();
        try {
            server = HttpServer.create(new InetSocketAddress(bind, port), 32);
        } catch (java.net.BindException e) {
            throw new IllegalArgumentException("--host " + host + " --port " + port + ": cannot listen there (" + e.getMessage() + ")");
        }
        pool = Executors.newFixedThreadPool(4, r -> Thread.ofPlatform().daemon().name("latent4j-view").unstarted(r));
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        server.start();
        int bound = server.getAddress().getPort();
        String h = bind.getHostAddress().contains(":") ? "[" + bind.getHostAddress() + "]" : bind.getHostAddress();
        address = URI.create("http://" + h + ":" + bound + "/");
    }

    /** The page's address, e.g. http://127.0.0.1:38413/. */
    URI address() {
        return address;
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            int status = 200;
            byte[] out;
            String type = "application/json; charset=utf-8";
            try {
                Object answer = answer(ex);
                if (answer instanceof Raw raw) {
                    out = raw.bytes();
                    type = raw.type();
                } else {
                    out = Json.write(answer).getBytes(StandardCharsets.UTF_8);
                }
            } catch (HttpError e) {
                status = e.status;
                out = error(e.getMessage());
            } catch (IllegalArgumentException e) {
                status = 400;
                out = error(e.getMessage());
            } catch (RuntimeException | IOException e) {
                // A fault of ours, not the request's: a line on the server's console, none of the trace in the answer.
                status = 500;
                System.err.println("view: " + (e instanceof IOException ? "cannot answer " : "internal error on ")
                        + shorten(ex.getRequestURI().getRawPath()) + ": " + (e instanceof IOException ? e.getMessage() : e));
                out = error(e instanceof IOException ? "cannot read a file of the run or model: " + shorten(e.getMessage())
                        : "internal error (" + e.getClass().getSimpleName() + ")");
            }
            var h = ex.getResponseHeaders();
            h.set("Content-Type", type);
            h.set("Cache-Control", "no-store");
            h.set("X-Content-Type-Options", "nosniff");
            h.set("X-Frame-Options", "DENY");
            h.set("Referrer-Policy", "no-referrer");
            h.set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
            if (status == 413) {
                h.set("Connection", "close");   // the rest of the body is not read
            }
            if (status == 405) {
                h.set("Allow", posts.containsKey(ex.getRequestURI().getRawPath()) ? "POST" : "GET, HEAD");
            }
            boolean head = ex.getRequestMethod().equals("HEAD");
            ex.sendResponseHeaders(status, head ? -1 : out.length == 0 ? -1 : out.length);
            if (!head && out.length > 0) {
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(out);
                }
            }
        }
    }

    private static byte[] error(String message) {
        return Json.write(Map.of("error", message == null ? "bad request" : message)).getBytes(StandardCharsets.UTF_8);
    }

    private Object answer(HttpExchange ex) throws IOException {
        URI uri = ex.getRequestURI();
        String path = uri.getRawPath(), rawQuery = uri.getRawQuery();
        if (path == null || path.length() + (rawQuery == null ? 0 : rawQuery.length() + 1) > MAX_TARGET) {
            throw new HttpError(414, "the request target is longer than " + MAX_TARGET + " characters");
        }
        if (loopback) {
            String host = ex.getRequestHeaders().getFirst("Host");
            int port = address.getPort();
            if (host == null || !(host.equals("127.0.0.1:" + port) || host.equals("localhost:" + port) || host.equals("[::1]:" + port))) {
                throw new HttpError(403, "this server answers requests for 127.0.0.1:" + port + " or localhost:" + port + " only");
            }
        }
        // No route has an escape, a dot segment, a backslash or an empty segment: refuse them before matching.
        if (!path.startsWith("/") || path.contains("%") || path.contains("\\") || path.contains("..") || path.contains("//")
                || path.contains("/./") || path.endsWith("/.")) {
            throw new HttpError(400, "bad path " + shorten(path));
        }
        String method = ex.getRequestMethod();
        boolean get = method.equals("GET") || method.equals("HEAD");
        Route route = get ? gets.get(path) : method.equals("POST") ? posts.get(path) : null;
        boolean known = path.equals("/") || (path.startsWith("/static/") && assets.containsKey(path.substring(8)))
                || gets.containsKey(path) || posts.containsKey(path);
        if (!known) {
            throw new HttpError(404, "no such page: " + shorten(path));
        }
        if (get && path.equals("/")) {
            return new Raw(assets.get(page), "text/html; charset=utf-8");
        }
        if (get && path.startsWith("/static/")) {
            String name = path.substring(8);
            return new Raw(assets.get(name), typeOf(name));
        }
        if (route == null) {
            throw new HttpError(405, method + " is not allowed on " + path);
        }
        String body = "";
        if (!get) {
            body = readBody(ex);
        }
        return route.answer(new Request(query(rawQuery), body));
    }

    /** The body, refused with 413 beyond {@link #MAX_BODY} bytes (before reading it when the length is declared). */
    private static String readBody(HttpExchange ex) throws IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            long n;
            try {
                n = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                throw new HttpError(400, "bad Content-Length");
            }
            if (n > MAX_BODY) {
                throw new HttpError(413, "the request body has " + n + " bytes; at most " + MAX_BODY + " are accepted");
            }
        }
        InputStream in = ex.getRequestBody();
        byte[] buf = in.readNBytes(MAX_BODY + 1);
        if (buf.length > MAX_BODY) {
            throw new HttpError(413, "the request body is larger than " + MAX_BODY + " bytes");
        }
        return new String(buf, StandardCharsets.UTF_8);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return q;
        }
        for (String part : raw.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            try {
                String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
                q.put(k, v);
            } catch (IllegalArgumentException e) {
                throw new HttpError(400, "bad query: " + shorten(raw));
            }
        }
        return q;
    }

    private static String typeOf(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".html") ? "text/html; charset=utf-8" : n.endsWith(".js") ? "text/javascript; charset=utf-8"
                : n.endsWith(".css") ? "text/css; charset=utf-8" : "application/octet-stream";
    }

    /** At most 200 characters of text that came from the request, for messages. */
    static String shorten(String s) {
        return s == null ? "" : s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
