package org.latent4j.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy .npy files of 1 or 2 dimensions, C order, float32 / float64 / uint8 (little-endian).
 * Every field of the header is checked, and the payload size against the file's real size.
 */
public final class Npy {
    private Npy() {}

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern ORDER = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    public static Dataset read(Path file) throws IOException {
        return read(file, false);
    }

    /**
     * Reads a .npy file; a NaN or infinite value is an error naming its row and column, unless
     * {@code dropNonFinite}: then its row is left out and counted in {@link Dataset#droppedRows()}.
     */
    public static Dataset read(Path file, boolean dropNonFinite) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer head = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
            if (size < 10) {
                throw new IOException(file + ": too short for a .npy file");
            }
            readFully(ch, head, 0, file);
            head.flip();
            byte[] magic = new byte[6];
            head.get(magic);
            if (magic[0] != (byte) 0x93 || !new String(magic, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
                throw new IOException(file + ": not a .npy file (bad magic at offset 0)");
            }
            int major = head.get() & 0xff;
            head.get();
            long hlen;
            int hstart;
            if (major == 1) {
                hlen = head.getShort() & 0xffff;
                hstart = 10;
            } else if (major == 2 || major == 3) {
                if (size < 12) {
                    throw new IOException(file + ": too short for a version " + major + " .npy header (" + size + " bytes)");
                }
                ByteBuffer l4 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, l4, 8, file);
                hlen = l4.flip().getInt() & 0xffffffffL;
                hstart = 12;
            } else {
                throw new IOException(file + ": .npy format version " + major + " is not supported");
            }
            if (hlen > 1 << 20 || hstart + hlen > size) {
                throw new IOException(file + ": header length " + hlen + " does not fit a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) hlen);
            readFully(ch, hb, hstart, file);
            String header = new String(hb.array(), StandardCharsets.ISO_8859_1);
            Matcher d = DESCR.matcher(header), o = ORDER.matcher(header), s = SHAPE.matcher(header);
            if (!d.find() || !o.find() || !s.find()) {
                throw new IOException(file + ": malformed .npy header: " + header.trim());
            }
            if (o.group(1).equals("True")) {
                throw new IOException(file + ": Fortran-order arrays are not supported; save it with np.ascontiguousarray");
            }
            String descr = d.group(1);
            int itemSize = switch (descr) {
                case "<f4" -> 4;
                case "<f8" -> 8;
                case "|u1", "<u1" -> 1;
                default -> throw new IOException(file + ": dtype '" + descr + "' is not supported (float32 <f4, float64 <f8 or uint8 |u1)");
            };
            String[] dims = s.group(1).split(",");
            long rows = -1, cols = 1;
            int nd = 0;
            for (String dim : dims) {
                if (dim.isBlank()) {
                    continue;
                }
                long v;
                try {
                    v = Long.parseLong(dim.trim());
                } catch (NumberFormatException e) {
                    throw new IOException(file + ": bad shape (" + s.group(1) + ")");
                }
                if (v <= 0 || v > Integer.MAX_VALUE) {
                    throw new IOException(file + ": shape (" + s.group(1) + ") is not a non-empty 1-D or 2-D array of at most "
                            + Integer.MAX_VALUE + " values per dimension");
                }
                if (nd == 0) {
                    rows = v;
                } else {
                    cols *= v;   // both below 2^31: no overflow
                }
                nd++;
            }
            if (nd == 0 || nd > 2 || rows <= 0 || cols <= 0) {
                throw new IOException(file + ": shape (" + s.group(1) + ") is not a non-empty 1-D or 2-D array");
            }
            if (rows > (Integer.MAX_VALUE - 16) / Math.max(1, cols)) {
                throw new IOException(file + ": shape (" + s.group(1) + ") holds more values than latent4j reads into one array");
            }
            long count = rows * cols;
            long dataStart = hstart + hlen;
            if (count > Integer.MAX_VALUE - 16 || dataStart + count * itemSize != size) {
                throw new IOException(file + ": shape (" + s.group(1) + ") of " + descr + " needs " + count * itemSize
                        + " bytes of data but the file has " + (size - dataStart));
            }
            ByteBuffer data = ByteBuffer.allocate((int) (count * itemSize)).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, data, dataStart, file);
            data.flip();
            float[] x = new float[(int) count];
            for (int i = 0; i < x.length; i++) {
                x[i] = switch (itemSize) {
                    case 4 -> data.getFloat();
                    case 8 -> (float) data.getDouble();
                    default -> data.get() & 0xff;
                };
            }
            try {
                return new Dataset(x, (int) rows, (int) cols, null, file.toString()).requireFinite(dropNonFinite);
            } catch (IllegalArgumentException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw new IOException(file + ": truncated at byte " + (pos + b.position()));
            }
        }
    }
}
