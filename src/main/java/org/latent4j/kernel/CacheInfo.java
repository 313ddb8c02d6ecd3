package org.latent4j.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Per-core data cache sizes, read from Linux sysfs when available, else common defaults. */
final class CacheInfo {
    private CacheInfo() {}

    private static final int L1 = read(1, 32 * 1024);
    private static final int L2 = read(2, 512 * 1024);

    static int l1Bytes() {
        return L1;
    }

    static int l2Bytes() {
        return L2;
    }

    private static int read(int level, int fallback) {
        Path dir = Path.of("/sys/devices/system/cpu/cpu0/cache");
        for (int i = 0; i < 8; i++) {
            Path idx = dir.resolve("index" + i);
            try {
                if (!Files.isDirectory(idx)) {
                    break;
                }
                int lvl = Integer.parseInt(Files.readString(idx.resolve("level")).trim());
                String type = Files.readString(idx.resolve("type")).trim();
                if (lvl == level && (type.equals("Data") || type.equals("Unified"))) {
                    String size = Files.readString(idx.resolve("size")).trim();
                    int mult = 1;
                    if (size.endsWith("K")) {
                        mult = 1024;
                        size = size.substring(0, size.length() - 1);
                    } else if (size.endsWith("M")) {
                        mult = 1024 * 1024;
                        size = size.substring(0, size.length() - 1);
                    }
                    int bytes = Integer.parseInt(size) * mult;
                    return bytes > 0 ? bytes : fallback;
                }
            } catch (IOException | NumberFormatException | SecurityException e) {
                return fallback;
            }
        }
        return fallback;
    }
}
