package org.latent4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine artifact an application embeds (target/latent4j-VERSION.jar, built right after
 * compiling): no CLI, benchmark, chart, font, ONNX or data file, no reference to another library, a
 * module name, no dependency in the pom; and the README's embedding example compiles and runs
 * against it alone.
 */
class EmbeddingTest {
    static Path engineJar() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("target"))) {
            List<Path> jars = s.filter(p -> p.getFileName().toString().matches("latent4j-\\d.*\\.jar")
                    && !p.getFileName().toString().matches(".*-(cli|spark|onnx|sources|javadoc)\\.jar")).toList();
            assertEquals(1, jars.size(), "one engine jar in target/ (built at process-classes): " + jars);
            return jars.get(0);
        }
    }

    @Test
    void theEngineJarHoldsTheEngineOnly() throws IOException {
        int classes = 0;
        try (JarFile jar = new JarFile(engineJar().toFile())) {
            assertEquals("org.latent4j", jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name"));
            List<String> wrong = new ArrayList<>(), refers = new ArrayList<>();
            for (var e : java.util.Collections.list(jar.entries())) {
                String n = e.getName();
                if (n.startsWith("org/latent4j/cli/") || n.startsWith("org/latent4j/bench/") || n.startsWith("org/latent4j/io/Charts")
                        || n.startsWith("org/latent4j/io/Fonts") || n.startsWith("org/latent4j/spark/") || n.startsWith("org/latent4j/onnx/") || n.endsWith(".ttf") || n.contains("fashion-mnist")) {
                    wrong.add(n);
                }
                if (n.endsWith(".class")) {
                    classes++;
                    String bytes = new String(jar.getInputStream(e).readAllBytes(), StandardCharsets.ISO_8859_1);
                    for (String lib : new String[] {"picocli/", "org/knowm/xchart", "me/tongfei", "org/jline", "org/apache/spark", "scala/", "com/google/protobuf"}) {
                        if (bytes.contains(lib)) {
                            refers.add(n + " -> " + lib);
                        }
                    }
                }
            }
            assertTrue(wrong.isEmpty(), "not in the engine jar: " + wrong);
            assertTrue(refers.isEmpty(), "the engine refers to no other library: " + refers);
            assertTrue(jar.getEntry("org/latent4j/model/Autoencoder.class") != null && jar.getEntry("org/latent4j/version.properties") != null);
        }
        assertTrue(classes > 100, classes + " classes");
        assertTrue(Files.size(engineJar()) < 1_000_000, "no bundled data: " + Files.size(engineJar()) + " bytes");
        // The pom: every dependency an application would pull is optional or test-scoped.
        String pom = Files.readString(Path.of("pom.xml"));
        String deps = pom.substring(pom.indexOf("</dependencyManagement>"), pom.indexOf("<build>"));
        Matcher m = Pattern.compile("(?s)<dependency>(.*?)</dependency>").matcher(deps);
        int n = 0;
        while (m.find()) {
            n++;
            String d = m.group(1);
            assertTrue(d.contains("<optional>true</optional>") || d.contains("<scope>test</scope>"), "pulled by an application: " + d);
        }
        assertTrue(n >= 6, "the pom's dependencies were read: " + n);
    }

    @Test
    void theReadmeExampleCompilesAndRunsAgainstTheEngineJarAlone(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int at = readme.indexOf("<!-- embedding-example");
        assertTrue(at >= 0, "the README marks its embedding example");
        int start = readme.indexOf("```java\n", at) + 8, end = readme.indexOf("```", start);
        String source = readme.substring(start, end);
        assertTrue(source.contains("public class Embed"), source);
        Path src = Files.writeString(dir.resolve("Embed.java"), source);
        Path out = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        // No --add-modules: compiling an application needs no flag (running it does).
        int rc = javac.run(null, diagnostics, diagnostics, "-d", out.toString(), "-cp", engineJar().toString(), "-proc:none",
                "-Xlint:none", src.toString());
        assertEquals(0, rc, "javac against the engine jar alone: " + diagnostics.toString(StandardCharsets.UTF_8));
        // Run it with only the engine jar and the example (the platform's class loader above them: no test class path).
        Path model = dir.resolve("m.safetensors");
        PrintStream old = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {out.toUri().toURL(), engineJar().toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            loader.loadClass("Embed").getMethod("main", String[].class).invoke(null, (Object) new String[] {model.toString()});
            assertFalse(loader.loadClass("org.latent4j.model.Models").getClassLoader() == getClass().getClassLoader(),
                    "the engine came from the jar, not the test class path");
        } finally {
            System.setOut(old);
        }
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("2 codes of 2"), printed.toString(StandardCharsets.UTF_8));
        assertTrue(Files.size(model) > 100);
    }

    @Test
    void loadOnnxWithoutTheOnnxArtifactSaysWhichJarsToAdd() throws Exception {
        // The engine jar alone in a class loader that cannot see the test class path: no OnnxModel there.
        try (URLClassLoader engineOnly = new URLClassLoader(new URL[] {engineJar().toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
            Class<?> models = Class.forName("org.latent4j.model.Models", true, engineOnly);
            var e = org.junit.jupiter.api.Assertions.assertThrows(java.lang.reflect.InvocationTargetException.class,
                    () -> models.getMethod("loadOnnx", Path.class).invoke(null, Path.of("model.onnx")));
            assertTrue(e.getCause() instanceof IOException, String.valueOf(e.getCause()));
            assertTrue(e.getCause().getMessage().contains("needs the onnx artifact") && e.getCause().getMessage().contains("protobuf-java"),
                    e.getCause().getMessage());
        }
    }
}
