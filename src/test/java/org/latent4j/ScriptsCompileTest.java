package org.latent4j;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every model script (dsl-examples/*.java, and the side-by-side scripts under benchmarks/ that
 * ./latent4j run starts) compiles against today's API, so a script in the README never rots.
 */
class ScriptsCompileTest {
    static Stream<Path> scripts() throws IOException {
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("dsl-examples"))) {
            s.filter(p -> p.toString().endsWith(".java")).sorted().forEach(all::add);
        }
        try (Stream<Path> s = Files.walk(Path.of("benchmarks"))) {
            // Scripts that run a benchmarks-only peer (ONNX Runtime) are left out: the peer is never on the test class path.
            s.filter(p -> p.toString().endsWith(".java") && !p.startsWith(Path.of("benchmarks", "jmh")) && !usesOnnxRuntime(p)).sorted()
                    .forEach(all::add);
        }
        assertTrue(all.size() >= 10, "scripts not found from " + Path.of("").toAbsolutePath() + ": " + all);
        return all.stream();
    }

    static boolean usesOnnxRuntime(Path script) {
        try {
            return Files.readString(script).contains("import ai.onnxruntime.");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @MethodSource("scripts")
    void compiles(Path script, @TempDir Path out) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "no compiler in this JDK");
        StringWriter errors = new StringWriter();
        List<String> args = List.of("-d", out.toString(), "-cp", System.getProperty("java.class.path"), "-proc:none",
                "--add-modules=jdk.incubator.vector", "-Xlint:-incubating");
        boolean ok = javac.getTask(errors, null, null, args, null,
                javac.getStandardFileManager(null, null, null).getJavaFileObjects(script.toFile())).call();
        assertTrue(ok, script + " does not compile:\n" + errors);
    }
}
