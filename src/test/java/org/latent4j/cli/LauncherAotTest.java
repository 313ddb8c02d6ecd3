package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's AOT cache, on a copy of the launcher beside jars made from this build's classes and a
 * JDK whose java logs its command lines before running this JDK's: made on first use, reused, made
 * anew when a jar changes, off with LATENT4J_AOT=0, and the command prints the same either way.
 */
class LauncherAotTest {
    @TempDir
    Path dir;

    Path root, aot, log;

    @Test
    void aCacheIsMadeOnFirstUseReusedAndRemadeWhenAJarChanges() throws Exception {
        setUp();
        Result plain = run("0");
        assertEquals(0, plain.code, plain.out);
        assertTrue(plain.out.contains("simd"), plain.out);
        assertFalse(Files.exists(aot), "LATENT4J_AOT=0 makes no cache folder");
        assertFalse(lastJavaLine().contains("AOT"), lastJavaLine());

        // First use, two commands at once: each runs as usual, one of them records, one cache results.
        Process a = start(null), b = start(null);
        Result ra = finish(a), rb = finish(b);
        assertEquals(plain.out, ra.out);
        assertEquals(plain.out, rb.out);
        Path first = awaitCache();
        assertTrue(javaLines().stream().anyMatch(l -> l.contains("-XX:AOTMode=record")), String.join("\n", javaLines()));
        assertTrue(javaLines().stream().anyMatch(l -> l.contains("-XX:AOTMode=create")), String.join("\n", javaLines()));

        // Second use: the JVM starts from the cache and prints the same.
        Result cached = run(null);
        assertEquals(plain.out, cached.out);
        assertTrue(lastJavaLine().contains("-XX:AOTCache=" + first), lastJavaLine());

        // A rebuilt jar (new mtime): a new key, recorded again; the old cache is deleted.
        Path jar = root.resolve("target/latent4j.jar");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));
        Result rebuilt = run(null);
        assertEquals(plain.out, rebuilt.out);
        assertTrue(lastJavaLine().contains("-XX:AOTMode=record"), lastJavaLine());
        Path second = awaitCache();
        assertFalse(second.equals(first), second.toString());
        assertFalse(Files.exists(first), "the stale cache of the old jar is deleted");

        // LATENT4J_AOT=0 with a cache present: not used.
        Result off = run("0");
        assertEquals(plain.out, off.out);
        assertFalse(lastJavaLine().contains("AOT"), lastJavaLine());
    }

    record Result(int code, String out) {
    }

    /** A launcher copy with this build's classes as latent4j.jar, picocli in target/lib and a logging JDK. */
    void setUp() throws IOException {
        root = Files.createDirectories(dir.resolve("root"));
        aot = dir.resolve("aot");
        log = dir.resolve("java.log");
        Files.copy(Path.of("latent4j"), root.resolve("latent4j"));
        Files.writeString(root.resolve("pom.xml"), "<vector.module.arg>--add-modules=jdk.incubator.vector</vector.module.arg>\n");
        Path target = root.resolve("target"), lib = Files.createDirectories(target.resolve("lib"));
        jar(Path.of("target/classes"), target.resolve("latent4j.jar"));
        jar(null, target.resolve("latent4j-cli.jar"));
        jar(null, target.resolve("latent4j-onnx.jar"));
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (Path.of(e).getFileName().toString().startsWith("picocli-")) {
                Files.copy(Path.of(e), lib.resolve(Path.of(e).getFileName()));
            }
        }
        Files.setLastModifiedTime(root.resolve("pom.xml"), FileTime.fromMillis(0));
        Path jdk = Path.of(System.getProperty("java.home"));
        Path bin = Files.createDirectories(dir.resolve("jdk/bin"));
        Files.writeString(dir.resolve("jdk/release"), Files.readString(jdk.resolve("release")));
        Files.writeString(bin.resolve("java"), "#!/bin/sh\necho \"java $*\" >> '" + log + "'\nexec '" + jdk.resolve("bin/java") + "' \"$@\"\n");
        Files.writeString(bin.resolve("javac"), "#!/bin/sh\nexit 0\n");
        bin.resolve("java").toFile().setExecutable(true);
        bin.resolve("javac").toFile().setExecutable(true);
    }

    static void jar(Path classes, Path out) throws IOException {
        try (OutputStream o = Files.newOutputStream(out); JarOutputStream j = new JarOutputStream(o)) {
            if (classes == null) {
                return;
            }
            List<Path> files;
            try (Stream<Path> s = Files.walk(classes)) {
                files = s.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".class")).sorted().toList();
            }
            for (Path f : files) {
                j.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                j.write(Files.readAllBytes(f));
                j.closeEntry();
            }
        }
    }

    Process start(String aotSetting) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("latent4j").toString(), "env").redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", dir.resolve("jdk").toString());
        pb.environment().put("LATENT4J_AOT_DIR", aot.toString());
        pb.environment().remove("LATENT4J_JAVA_OPTS");
        if (aotSetting != null) {
            pb.environment().put("LATENT4J_AOT", aotSetting);
        } else {
            pb.environment().remove("LATENT4J_AOT");
        }
        return pb.start();
    }

    static Result finish(Process p) throws IOException, InterruptedException {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Result(p.exitValue(), out);
    }

    Result run(String aotSetting) throws IOException, InterruptedException {
        return finish(start(aotSetting));
    }

    /** Waits for the detached writer: one env-KEY.aot and no lock left. */
    Path awaitCache() throws IOException, InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < end) {
            List<Path> caches = new ArrayList<>(), locks = new ArrayList<>();
            try (Stream<Path> s = Files.list(aot)) {
                s.forEach(p -> (p.toString().endsWith(".lock") ? locks : caches).add(p));
            }
            if (locks.isEmpty() && caches.size() == 1 && caches.get(0).getFileName().toString().matches("env-[0-9a-f]{16}\\.aot")) {
                return caches.get(0);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no cache in " + aot + ": " + String.join(" ", aot.toFile().list()));
    }

    List<String> javaLines() throws IOException {
        return Files.readAllLines(log).stream().filter(l -> l.startsWith("java ")).toList();
    }

    /** The command line of the last JVM that ran the command (not the one that wrote a cache). */
    String lastJavaLine() throws IOException {
        List<String> l = javaLines().stream().filter(s -> s.contains("org.latent4j.cli.Main")).toList();
        return l.get(l.size() - 1);
    }
}
