package org.latent4j.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzip): a big-endian header
 * {@code 0x00 0x00 type ndim}, ndim sizes, then the values. Unsigned bytes only (type 0x08).
 * Errors name the file, the byte offset and what was wrong; sizes are checked before anything
 * is allocated.
 */
public final class Idx {
    private Idx() {}

    /** Largest payload accepted (1 GiB), so a hostile header cannot make us allocate more. */
    public static final long MAX_BYTES = 1L << 30;

    /** Images: n x (rows * cols) floats scaled to [0, 1] (pixel / 255), each of shape 1 x rows x cols. */
    public static Dataset readImages(Path file, Path labelsFile) throws IOException {
        try (InputStream in = open(file)) {
            Dataset d = readImages(in, file.toString());
            if (labelsFile == null) {
                return d;
            }
            int[] labels = readLabels(labelsFile);
            if (labels.length != d.rows()) {
                throw new IOException(labelsFile + ": " + labels.length + " labels but " + file + " has " + d.rows() + " images");
            }
            return new Dataset(d.x(), d.rows(), d.features(), labels, null, d.source(), 0, d.sampleShape());
        }
    }

    public static int[] readLabels(Path file) throws IOException {
        try (InputStream in = open(file)) {
            return readLabels(in, file.toString());
        }
    }

    static InputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        return maybeGunzip(Files.newInputStream(file), file.toString());
    }

    /** Wraps a stream in gzip when it starts with the gzip magic bytes. */
    static InputStream maybeGunzip(InputStream raw, String name) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(2);
        int a = in.read(), b = in.read();
        in.reset();
        if (a == 0x1f && b == 0x8b) {
            try {
                return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
            } catch (ZipException e) {
                throw new IOException(name + ": corrupt gzip header (" + e.getMessage() + ")", e);
            }
        }
        return in;
    }

    public static Dataset readImages(InputStream in, String name) throws IOException {
        int[] dims;
        try {
            dims = header(in, name, 3);
        } catch (ZipException | EOFException e) {
            throw new IOException(name + ": gzip data is corrupt or truncated in the IDX header (" + e.getMessage() + ")", e);
        }
        long n = dims[0], per = (long) dims[1] * dims[2];
        if (per > MAX_BYTES || n > MAX_BYTES / per) {   // also keeps n * per from overflowing
            throw new IOException(name + ": header declares " + n + " images of " + dims[1] + " x " + dims[2]
                    + " bytes, more than the " + MAX_BYTES + " latent4j reads");
        }
        // The bytes stay in the chunks they were read in (no growing buffer and its copies): the
        // floats are the only full-size array, so reading 60,000 images peaks near their 188 MB.
        java.util.List<byte[]> chunks = payloadChunks(in, name, n * per, 16);
        float[] x = new float[(int) (n * per)];
        int at = 0;
        for (byte[] c : chunks) {
            for (byte b : c) {
                x[at++] = (b & 0xff) / 255f;
            }
        }
        // IDX images are n x rows x cols bytes: one channel of rows x cols pixels each.
        return new Dataset(x, dims[0], (int) per, null, null, name, 0, org.latent4j.kernel.Shape.image(1, dims[1], dims[2]));
    }

    public static int[] readLabels(InputStream in, String name) throws IOException {
        int[] dims;
        try {
            dims = header(in, name, 1);
        } catch (ZipException | EOFException e) {
            throw new IOException(name + ": gzip data is corrupt or truncated in the IDX header (" + e.getMessage() + ")", e);
        }
        byte[] data = payload(in, name, dims[0], 8);
        int[] l = new int[data.length];
        for (int i = 0; i < data.length; i++) {
            l[i] = data[i] & 0xff;
        }
        return l;
    }

    private static int[] header(InputStream in, String name, int wantDims) throws IOException {
        byte[] h = new byte[4];
        readFully(in, h, name, 0);
        if (h[0] != 0 || h[1] != 0) {
            throw new IOException(name + ": not an IDX file (bad magic number 0x" + String.format("%02x%02x%02x%02x", h[0], h[1], h[2], h[3])
                    + " at offset 0; IDX files start with 0x0000)");
        }
        if (h[2] != 0x08) {
            throw new IOException(name + ": IDX element type 0x" + String.format("%02x", h[2]) + " at offset 2 is not supported (only unsigned bytes, 0x08)");
        }
        if (h[3] != wantDims) {
            throw new IOException(name + ": IDX file has " + h[3] + " dimensions (offset 3) but " + wantDims + " were expected ("
                    + (wantDims == 3 ? "images" : "labels") + ")");
        }
        int[] dims = new int[wantDims];
        byte[] d = new byte[4 * wantDims];
        readFully(in, d, name, 4);
        for (int i = 0; i < wantDims; i++) {
            dims[i] = ((d[4 * i] & 0xff) << 24) | ((d[4 * i + 1] & 0xff) << 16) | ((d[4 * i + 2] & 0xff) << 8) | (d[4 * i + 3] & 0xff);
            if (dims[i] <= 0) {
                throw new IOException(name + ": dimension " + i + " at offset " + (4 + 4 * i) + " is " + Integer.toUnsignedString(dims[i])
                        + "; it must be positive");
            }
        }
        return dims;
    }

    private static byte[] payload(InputStream in, String name, long bytes, int offset) throws IOException {
        byte[] all = new byte[(int) bytes];
        int at = 0;
        for (byte[] c : payloadChunks(in, name, bytes, offset)) {
            System.arraycopy(c, 0, all, at, c.length);
            at += c.length;
        }
        return all;
    }

    /** The payload in chunks of at most 1 MiB, in order. */
    private static java.util.List<byte[]> payloadChunks(InputStream in, String name, long bytes, int offset) throws IOException {
        if (bytes > MAX_BYTES) {
            throw new IOException(name + ": header declares " + bytes + " bytes of data, more than the " + MAX_BYTES + " latent4j reads");
        }
        // Read in chunks, so a header that lies about the size fails at the real end of the file
        // without a huge allocation first.
        java.util.List<byte[]> chunks = new java.util.ArrayList<>();
        long left = bytes;
        while (left > 0) {
            byte[] c = new byte[(int) Math.min(1 << 20, left)];
            int got = 0;
            while (got < c.length) {
                int r;
                try {
                    r = in.read(c, got, c.length - got);
                } catch (EOFException | ZipException e) {
                    throw new IOException(name + ": gzip data is corrupt or truncated after " + (offset + bytes - left + got) + " bytes (" + e.getMessage() + ")", e);
                }
                if (r < 0) {
                    throw new IOException(name + ": truncated: the header declares " + bytes + " bytes of data but the file ends after "
                            + (bytes - left + got) + " (at offset " + (offset + bytes - left + got) + ")");
                }
                got += r;
            }
            chunks.add(c);
            left -= c.length;
        }
        return chunks;
    }

    private static void readFully(InputStream in, byte[] b, String name, int offset) throws IOException {
        int n = 0;
        while (n < b.length) {
            int r = in.read(b, n, b.length - n);
            if (r < 0) {
                throw new IOException(name + ": truncated header: the file ends at offset " + (offset + n));
            }
            n += r;
        }
    }
}
