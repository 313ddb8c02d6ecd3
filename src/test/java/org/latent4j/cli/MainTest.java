package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MainTest {
    record Run(int code, String out, String err) {}

    static synchronized Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        PrintStream oldOut = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        } finally {
            System.setOut(oldOut);
        }
        return new Run(code, out + captured.toString(StandardCharsets.UTF_8), err.toString());
    }

    @Test
    void unknownOptionIsOneLineAndExitCodeTwo() {
        Run r = run("bench", "gemm", "--frobnicate");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("latent4j: Unknown option: '--frobnicate'"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void badShapeNamesTheShapeAndExitsTwo() {
        Run r = run("bench", "gemm", "--shapes", "12x34", "--no-openblas");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("shape must look like MxKxN") && r.err().contains("'12x34'"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        Run d = run("--debug", "bench", "gemm", "--shapes", "0x3x4", "--no-openblas");
        assertEquals(2, d.code());
        assertTrue(d.err().contains("\tat "), "--debug prints the stack trace: " + d.err());
    }

    @Test
    void benchGemmJsonHasTheFieldsAndSaneValues() {
        Run r = run("bench", "gemm", "--json", "--quick", "--threads", "1", "--shapes", "16x40x24", "--no-openblas");
        assertEquals(0, r.code(), r.err());
        String line = r.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
        for (String field : new String[] {"shape", "threads", "gflops", "peak_gflops", "naive_gflops"}) {
            assertTrue(line.contains("\"" + field + "\":"), field + " missing in " + line);
        }
        assertTrue(line.contains("\"shape\":\"16x40x24\""), line);
        assertFalse(line.contains("openblas_gflops"), "peer skipped, so the field is omitted: " + line);
        Matcher m = Pattern.compile("\"gflops\":([0-9.]+)").matcher(line);
        assertTrue(m.find() && Double.parseDouble(m.group(1)) > 0, line);
    }

    @Test
    void envReportsTheSimdWidth() {
        Run r = run("env");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("simd") && r.out().contains("-bit"), r.out());
    }
}
