package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The heartbeat of a long engine call: lines while it runs, none after close, none for short work. */
class HeartbeatTest {
    @Test
    void linesWhileTheWorkRunsAndNoneAfter() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Heartbeat beat = new Heartbeat("pca: fitting 10 x 3 rows", out, 50);
        Thread.sleep(400);
        beat.close();
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertTrue(lines.length >= 2, String.join("\n", lines));
        assertTrue(lines[0].matches("pca: fitting 10 x 3 rows, \\d+\\.\\d s"), lines[0]);
        int after = bytes.size();
        Thread.sleep(200);
        assertEquals(after, bytes.size(), "no line after close");

        ByteArrayOutputStream quiet = new ByteArrayOutputStream();
        Heartbeat shortWork = new Heartbeat("short", new PrintStream(quiet, true, StandardCharsets.UTF_8), 10_000);
        Thread.sleep(10);
        shortWork.close();
        assertEquals(0, quiet.size(), "short work prints nothing");
    }
}
