package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code bench conv}: one JSON line per layer and pass with sane values, and a clear error for a bad option. */
class ConvBenchCommandTest {
    @Test
    void jsonHasALinePerLayerAndPass() {
        MainTest.Run r = MainTest.run("bench", "conv", "--json", "--quick", "--threads", "1", "--batch", "2");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().filter(l -> l.startsWith("{")).toList();
        assertEquals(12, lines.size(), r.out());
        for (String line : lines) {
            for (String field : new String[] {"layer", "pass", "batch", "threads", "ms", "gflops", "peak_gflops", "pct_of_peak", "vector_bits"}) {
                assertTrue(line.contains("\"" + field + "\":"), field + " missing in " + line);
            }
            Matcher m = Pattern.compile("\"gflops\":([0-9.]+)").matcher(line);
            assertTrue(m.find() && Double.parseDouble(m.group(1)) > 0, line);
        }
        assertTrue(lines.get(0).startsWith("{\"layer\":\"conv 1x28x28->32 k4 s2 p1\",\"pass\":\"forward\",\"batch\":2,\"threads\":1"), lines.get(0));
        assertTrue(lines.get(11).contains("\"layer\":\"convT 32x14x14->1 k4 s2 p1\",\"pass\":\"backward-weights\""), lines.get(11));
    }

    @Test
    void badBatchIsOneLineAndExitCodeTwo() {
        MainTest.Run r = MainTest.run("bench", "conv", "--batch", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("latent4j: --batch must be at least 1, got 0"), r.err());
    }
}
