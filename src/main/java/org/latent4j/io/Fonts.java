package org.latent4j.io;

import java.awt.Font;
import java.awt.FontFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The fonts charts draw their text with: DejaVu Sans, bundled in the jar (resources
 * {@code org/latent4j/io/fonts}, with its license), so a chart looks the same on every machine.
 *
 * <p>On Linux, Java's font system cannot start at all without fontconfig and at least one font
 * file: the first text drawn throws "Fontconfig head is null", even for a font loaded from a
 * file, and it cannot be retried in the same JVM. So before Java's fonts are first used, this
 * class looks for the fontconfig library and a font file in the usual places; when either is
 * missing (a fresh server or container) it writes a font configuration naming only the bundled
 * fonts and points Java at it ({@code sun.awt.fontconfig}), which needs neither. The system
 * property {@code latent4j.fonts} overrides the look: {@code bundled} always uses that
 * configuration, {@code system} never does; {@code auto} (the default) decides as above. An
 * application that has already drawn text keeps the font system it started with.
 */
final class Fonts {
    private Fonts() {}

    private static final System.Logger LOG = System.getLogger("org.latent4j");
    static final String MODE_PROPERTY = "latent4j.fonts";
    private static final String JDK_CONFIG_PROPERTY = "sun.awt.fontconfig";
    private static final String REGULAR = "DejaVuSans.ttf", BOLD = "DejaVuSans-Bold.ttf";

    private static boolean prepared;
    private static Font regular, bold;

    /** The bundled regular face at {@code size} points. */
    static synchronized Font regular(float size) {
        if (regular == null) {
            regular = load(REGULAR);
        }
        return regular.deriveFont(size);
    }

    /** The bundled bold face at {@code size} points. */
    static synchronized Font bold(float size) {
        if (bold == null) {
            bold = load(BOLD);
        }
        return bold.deriveFont(size);
    }

    /**
     * Makes Java's font system startable here (see the class comment); call before any text is
     * drawn. Idempotent.
     */
    static synchronized void prepare() {
        if (prepared) {
            return;
        }
        prepared = true;
        String mode = System.getProperty(MODE_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        boolean bundled = switch (mode) {
            case "bundled" -> true;
            case "system" -> false;
            case "auto" -> System.getProperty(JDK_CONFIG_PROPERTY) == null && !systemFontsUsable();
            default -> throw new IllegalArgumentException("-D" + MODE_PROPERTY + "=" + mode
                    + " is not a font choice; use auto, bundled or system");
        };
        if (!bundled) {
            return;
        }
        try {
            Path config = writeBundledConfiguration();
            System.setProperty(JDK_CONFIG_PROPERTY, config.toString());
            LOG.log(System.Logger.Level.INFO, "latent4j: " + (mode.equals("bundled") ? "-D" + MODE_PROPERTY + "=bundled"
                    : "no fontconfig library or no font files on this machine") + "; Java's text uses the bundled DejaVu Sans ("
                    + JDK_CONFIG_PROPERTY + "=" + config + ")");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the bundled font configuration to the temporary folder "
                    + System.getProperty("java.io.tmpdir") + ": " + e.getMessage(), e);
        }
    }

    private static Font load(String name) {
        prepare();
        byte[] bytes;
        try (InputStream in = resource(name)) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("the bundled font " + name + " cannot be read: " + e.getMessage(), e);
        }
        try {
            return Font.createFont(Font.TRUETYPE_FONT, new java.io.ByteArrayInputStream(bytes));
        } catch (IOException | FontFormatException | RuntimeException | Error e) {   // Java's font system failed to start
            throw new IllegalStateException("Java cannot draw text in this JVM: loading the bundled font " + name + " failed ("
                    + e.getMessage() + "). If Java's fonts were started before latent4j could point them at its bundled"
                    + " fonts, or with another configuration, start the JVM with -D" + MODE_PROPERTY + "=bundled; or install"
                    + " fontconfig and a font (e.g. apt-get install fontconfig fonts-dejavu-core)", e);
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = Fonts.class.getResourceAsStream("fonts/" + name);
        if (in == null) {
            throw new IOException("it is missing from the class path (org/latent4j/io/fonts/" + name + ")");
        }
        return in;
    }

    /**
     * Copies the bundled fonts to a new temporary folder beside a Java font configuration that
     * maps every logical font (serif, sans serif, monospaced, dialog, dialog input, each style)
     * to them; all of it is deleted when the JVM exits.
     */
    static Path writeBundledConfiguration() throws IOException {
        Path dir = Files.createTempDirectory("latent4j-fonts-");
        dir.toFile().deleteOnExit();
        Properties p = new Properties();
        p.setProperty("version", "1");
        p.setProperty("sequence.allfonts", "latin-1");
        for (String name : new String[] {REGULAR, BOLD}) {
            Path file = dir.resolve(name);
            file.toFile().deleteOnExit();
            try (InputStream in = resource(name)) {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            }
            p.setProperty("filename." + face(name).replace(' ', '_'), file.toAbsolutePath().toString());
        }
        for (String family : new String[] {"serif", "sansserif", "monospaced", "dialog", "dialoginput"}) {
            for (String style : new String[] {"plain", "bold", "italic", "bolditalic"}) {
                p.setProperty(family + "." + style + ".latin-1", face(style.startsWith("bold") ? BOLD : REGULAR));
            }
        }
        Path config = dir.resolve("fontconfig.properties");
        config.toFile().deleteOnExit();
        try (Writer w = Files.newBufferedWriter(config, StandardCharsets.ISO_8859_1)) {
            p.store(w, "latent4j: Java's logical fonts, all on the bundled DejaVu Sans");
        }
        return config;
    }

    private static String face(String file) {
        return file.equals(BOLD) ? "DejaVu Sans Bold" : "DejaVu Sans";
    }

    /**
     * Whether Java's own font system can start: not on Linux always; on Linux, when the
     * fontconfig library and at least one TrueType, OpenType or Type 1 font file are where
     * fontconfig looks by default.
     */
    static boolean systemFontsUsable() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
            return true;
        }
        return fontconfigLibraryFound() && fontFileFound();
    }

    private static boolean fontconfigLibraryFound() {
        List<Path> dirs = new ArrayList<>();
        String ldPath = System.getenv("LD_LIBRARY_PATH");
        if (ldPath != null) {
            for (String d : ldPath.split(":")) {
                if (!d.isEmpty()) {
                    dirs.add(Path.of(d));
                }
            }
        }
        for (String d : new String[] {"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib"}) {
            Path dir = Path.of(d);
            dirs.add(dir);
            try (Stream<Path> s = Files.list(dir)) {   // multiarch folders, e.g. /usr/lib/x86_64-linux-gnu
                s.filter(x -> x.getFileName().toString().contains("-linux-") && Files.isDirectory(x)).forEach(dirs::add);
            } catch (IOException | UncheckedIOException e) {
                // no such folder
            }
        }
        for (Path d : dirs) {
            Path lib = d.resolve("libfontconfig.so.1");
            try {
                if (Files.isRegularFile(lib) && Files.size(lib) > 0) {
                    return true;
                }
            } catch (IOException e) {
                // unreadable: not usable
            }
        }
        return false;
    }

    private static boolean fontFileFound() {
        List<Path> roots = new ArrayList<>(List.of(Path.of("/usr/share/fonts"), Path.of("/usr/local/share/fonts")));
        String home = System.getProperty("user.home");
        if (home != null) {
            roots.add(Path.of(home, ".fonts"));
            roots.add(Path.of(home, ".local", "share", "fonts"));
        }
        String xdg = System.getenv("XDG_DATA_HOME");
        if (xdg != null && !xdg.isEmpty()) {
            roots.add(Path.of(xdg, "fonts"));
        }
        for (Path root : roots) {
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> s = Files.find(root, 6, (f, a) -> a.isRegularFile() && isFontFile(f))) {
                if (s.findAny().isPresent()) {
                    return true;
                }
            } catch (IOException | UncheckedIOException e) {
                // unreadable folder: look at the next
            }
        }
        return false;
    }

    private static boolean isFontFile(Path f) {
        String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".ttf") || n.endsWith(".otf") || n.endsWith(".ttc") || n.endsWith(".pfb") || n.endsWith(".pfa");
    }
}
