package org.latent4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Layering of the packages, read from the sources: a lower layer never imports a higher one,
 * nothing but the CLI imports the CLI's libraries (picocli is an optional dependency), and only
 * io.Charts imports XChart (optional too; Pictures checks it is there before calling Charts), and
 * only org.latent4j.onnx imports protobuf (optional as well).
 */
class ArchitectureTest {
    /** Layer rank of each package under org.latent4j; an import must not go to a higher rank. */
    static final Map<String, Integer> RANK = Map.ofEntries(
            Map.entry("kernel", 0),
            Map.entry("dsl", 1),
            Map.entry("graph", 2),
            Map.entry("runtime", 3),
            Map.entry("io", 4), Map.entry("data", 4),
            Map.entry("linear", 5),      // PCA and PPCA: closed forms on the kernels
            Map.entry("model", 6),       // the use API, over autoencoders and the linear baselines
            Map.entry("train", 7),
            Map.entry("bench", 8),
            Map.entry("spark", 8),       // Spark ML stages over the engine (classifier jar "spark"; Spark is provided)
            Map.entry("onnx", 8), Map.entry("proto", 8),  // ONNX files (classifier jar onnx) and their generated protobuf classes
            Map.entry("cli", 9));

    record Violation(Path file, String imported) {}

    static List<Path> sources() throws IOException {
        try (Stream<Path> s = Files.walk(Path.of("src/main/java"))) {
            return s.filter(p -> p.toString().endsWith(".java")).toList();
        }
    }

    static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?([\\w.]+)", Pattern.MULTILINE);

    @Test
    void lowerLayersNeverImportHigherOnesAndOnlyTheCliUsesPicocli() throws IOException {
        List<Path> files = sources();
        assertTrue(files.size() > 5, "sources not found from " + Path.of("").toAbsolutePath());
        List<String> violations = new ArrayList<>();
        for (Path f : files) {
            String pkg = f.getParent().getFileName().toString();
            Integer own = RANK.get(pkg);
            assertTrue(own != null, "package " + pkg + " (" + f + ") has no layer in ArchitectureTest.RANK");
            Matcher m = IMPORT.matcher(Files.readString(f));
            while (m.find()) {
                String imp = m.group(1);
                if ((imp.startsWith("picocli") || imp.startsWith("me.tongfei")) && !pkg.equals("cli")) {
                    violations.add(f + " imports " + imp + " (a CLI-only library)");
                }
                if (imp.startsWith("org.apache.spark") && !pkg.equals("spark")) {
                    violations.add(f + " imports " + imp + " (Spark is provided at run time: only org.latent4j.spark may use it)");
                }
                if (imp.startsWith("com.google.protobuf") && !pkg.equals("onnx") && !pkg.equals("proto")) {
                    violations.add(f + " imports " + imp + " (protobuf is optional: only org.latent4j.onnx may use it)");
                }
                if (imp.startsWith("org.knowm.xchart") && !f.endsWith(Path.of("io", "Charts.java"))) {
                    violations.add(f + " imports " + imp + " (XChart is optional: only io.Charts may use it)");
                }
                if (imp.startsWith("org.latent4j.")) {
                    String target = imp.substring("org.latent4j.".length()).split("\\.")[0];
                    Integer rank = RANK.get(target);
                    if (rank != null && rank > own) {
                        violations.add(f + " (" + pkg + ") imports " + imp + " from the higher layer " + target);
                    }
                }
            }
        }
        assertEquals(List.of(), violations);
    }

    /**
     * Nodes carry their ops' attributes: the runtime never reads the model's spec, and of the
     * graph package only the builder (Graph) knows the DSL.
     */
    @Test
    void theRuntimeAndTheOpsNeverReadTheModelSpec() throws IOException {
        List<String> violations = new ArrayList<>();
        for (Path f : sources()) {
            String pkg = f.getParent().getFileName().toString();
            String text = Files.readString(f);
            boolean ops = pkg.equals("graph") && !f.endsWith(Path.of("graph", "Graph.java"));
            if ((pkg.equals("runtime") || ops) && (text.contains("org.latent4j.dsl") || text.contains(".spec()"))) {
                violations.add(f + " reads the DSL's model spec");
            }
        }
        assertEquals(List.of(), violations);
    }

    @Test
    void noJavaSerializationInTheEngine() throws IOException {
        for (Path f : sources()) {
            String s = Files.readString(f);
            assertTrue(!s.contains("ObjectInputStream") && !s.contains("readObject("), f + " uses Java serialization");
        }
    }
}
