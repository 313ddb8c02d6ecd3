package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The ./latent4j launcher's choice of JDK (without building anything). */
class LauncherTest {
    static String[] run(String javaHome, String jdkDirs, String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "bash";
        cmd[1] = "latent4j";
        System.arraycopy(args, 0, cmd, 2, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("JAVA_HOME");
        if (javaHome != null) {
            pb.environment().put("JAVA_HOME", javaHome);
        }
        pb.environment().put("LATENT4J_JDK_DIRS", jdkDirs);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new String[] {Integer.toString(p.exitValue()), out};
    }

    @Test
    void withoutAJdk25ItSaysWhatToInstallInOneSentence() throws Exception {
        String[] r = run(System.getProperty("java.home").contains("17") ? System.getProperty("java.home") : null,
                "/nonexistent-jdks/*", "env");
        assertEquals("1", r[0], r[1]);
        assertTrue(r[1].trim().startsWith("latent4j: no JDK 25 or newer found") && r[1].contains("install"), r[1]);
        assertEquals(1, r[1].trim().lines().count(), r[1]);
    }

    @Test
    void anOlderJavaHomeIsPassedOverForAJdk25InTheFolders() throws Exception {
        Path thisJdk = Path.of(System.getProperty("java.home"));
        // A folder holding only an old-looking JDK (a release file saying 17) and this JDK 25+.
        Path dir = Files.createTempDirectory("jdks");
        Path old = Files.createDirectories(dir.resolve("old-jdk/bin"));
        for (String tool : new String[] {"java", "javac"}) {
            Path t = old.resolve(tool);
            Files.writeString(t, "#!/bin/sh\necho 'openjdk version \"17.0.1\"' >&2\n");
            t.toFile().setExecutable(true);
        }
        Files.writeString(dir.resolve("old-jdk/release"), "JAVA_VERSION=\"17.0.1\"\n");
        Files.createSymbolicLink(dir.resolve("z-this-jdk"), thisJdk);
        // Symlinks are skipped (distributions link the same JDK under several names), so name the real folder.
        String[] r = run(dir.resolve("old-jdk").toString(), dir + "/old-jdk " + thisJdk, "which-jdk");
        assertEquals("0", r[0], r[1]);
        assertEquals(thisJdk.toString(), r[1].trim());
    }
}
