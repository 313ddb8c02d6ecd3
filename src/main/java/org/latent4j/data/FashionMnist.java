package org.latent4j.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fashion-MNIST: the slice bundled in the jar, or the full set from a folder. */
public final class FashionMnist {
    private FashionMnist() {}

    /** Where Debian's dataset-fashion-mnist package installs the full set. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    public static final String[] CLASSES = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

    /** The bundled 5000 training images (pixels / 255) with labels. */
    public static Dataset bundledTrain() {
        return bundled("train");
    }

    /** The bundled 1000 test images with labels. */
    public static Dataset bundledTest() {
        return bundled("t10k");
    }

    private static Dataset bundled(String part) {
        String base = "fashion-mnist/" + part;
        try (InputStream img = resource(base + "-images-idx3-ubyte.gz");
             InputStream lab = resource(base + "-labels-idx1-ubyte.gz")) {
            Dataset d = Idx.readImages(Idx.maybeGunzip(img, base), "bundled Fashion-MNIST " + part);
            int[] labels = Idx.readLabels(Idx.maybeGunzip(lab, base), "bundled Fashion-MNIST " + part + " labels");
            return new Dataset(d.x(), d.rows(), d.features(), labels, null, d.source(), 0, d.sampleShape());
        } catch (IOException e) {
            throw new IllegalStateException("the bundled Fashion-MNIST slice is damaged: " + e.getMessage(), e);
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = FashionMnist.class.getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("the bundled Fashion-MNIST slice (" + name + ") is not on the class path: it comes"
                    + " with the CLI artifact (org.latent4j:latent4j, classifier cli), not the engine; or read a folder with"
                    + " FashionMnist.fromDirectory");
        }
        return in;
    }

    /** The full set from a folder holding the four IDX files (gz or not); test = false for train. */
    public static Dataset fromDirectory(Path dir, boolean test) throws IOException {
        String p = test ? "t10k" : "train";
        return Idx.readImages(find(dir, p + "-images-idx3-ubyte"), find(dir, p + "-labels-idx1-ubyte"));
    }

    private static Path find(Path dir, String stem) throws IOException {
        for (String name : new String[] {stem + ".gz", stem}) {
            Path f = dir.resolve(name);
            if (Files.isRegularFile(f)) {
                return f;
            }
        }
        throw new IOException(dir + ": no " + stem + "(.gz) in this folder");
    }
}
