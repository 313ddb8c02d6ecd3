package org.latent4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.latent4j.dsl.Json;

/**
 * The safetensors format (latent4j writes and {@link #read} reads float32 only; {@link #readConverted}
 * also reads a PyTorch state_dict's F16, BF16 and F64 tensors as float32 and lists its other
 * tensors without their data): 8-byte little-endian header length, a JSON header
 * mapping tensor names to {dtype, shape, data_offsets} plus an optional {@code __metadata__}
 * string map, then the raw little-endian data. A file is data, never code: every length,
 * offset and shape is checked before it is used, and nothing is allocated from a size the file
 * claims before that size has been checked against the file's real length.
 */
public final class SafeTensors {
    private SafeTensors() {}

    /** Largest header accepted (safetensors itself caps it at 100 MB). */
    public static final long MAX_HEADER = 100L << 20;

    /** A named float32 tensor: {@code shape} describes {@code length} floats of {@code data} from {@code offset}. */
    public record Entry(String name, int[] shape, float[] data, int offset) {
        public long count() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** What a file holds: its metadata and its tensors (each with its own array). */
    public record Contents(Map<String, String> metadata, Map<String, Entry> tensors) {}

    /**
     * A tensor of a dtype that is not a floating-point one (e.g. batch normalization's I64
     * {@code num_batches_tracked} in a PyTorch state_dict): its name, dtype and shape, checked like
     * every tensor's, but its data is not read.
     */
    public record Other(String name, String dtype, int[] shape) {}

    /**
     * What {@link #readConverted} found: the float tensors (converted to float32) in
     * {@code contents}, the dtype each had in the file, and the tensors of other dtypes.
     */
    public record Converted(Contents contents, Map<String, String> dtypes, Map<String, Other> others) {}

    /** Bytes per element of the dtypes the safetensors format defines; -1 for an unknown dtype. */
    static int elementBytes(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> -1;
        };
    }

    /** Whether readConverted converts a dtype to float32. */
    static boolean isFloat(String dtype) {
        return dtype.equals("F32") || dtype.equals("F16") || dtype.equals("BF16") || dtype.equals("F64");
    }

    /** Writes atomically: to a temporary file in the same folder, forced to disk, then renamed. */
    public static void write(Path file, Map<String, String> metadata, List<Entry> tensors) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<String, Object>(metadata));
        }
        long off = 0;
        for (Entry e : tensors) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("dtype", "F32");
            List<Object> shape = new ArrayList<>();
            for (int d : e.shape()) {
                shape.add(d);
            }
            t.put("shape", shape);
            long bytes = e.count() * 4;
            t.put("data_offsets", List.of(off, off + bytes));
            if (header.put(e.name(), t) != null) {
                throw new IllegalArgumentException("two tensors are named " + e.name());
            }
            off += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8;   // the format allows trailing spaces; keeps data 8-aligned
        byte[] h = new byte[json.length + pad];
        System.arraycopy(json, 0, h, 0, json.length);
        java.util.Arrays.fill(h, json.length, h.length, (byte) ' ');
        AtomicFiles.write(file, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).flip();
                writeAll(ch, len);
                writeAll(ch, ByteBuffer.wrap(h));
                ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (Entry e : tensors) {
                    long n = e.count();
                    for (long i = 0; i < n; i++) {
                        if (!buf.hasRemaining()) {
                            buf.flip();
                            writeAll(ch, buf);
                            buf.clear();
                        }
                        buf.putFloat(e.data()[e.offset() + (int) i]);
                    }
                }
                buf.flip();
                writeAll(ch, buf);
            }   // AtomicFiles syncs the file before the rename
        });
    }

    private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads and checks a whole file of float32 tensors. Errors name the file and what is wrong. */
    public static Contents read(Path file) throws IOException {
        return read(file, false).contents();
    }

    /**
     * Reads and checks a whole file as PyTorch's {@code safetensors.torch.save_file} writes it:
     * F32 tensors as they are, F16 and BF16 exactly (every such value is a float32), F64 rounded to
     * the nearest float32 (a finite value beyond float32's range is an error naming the tensor and
     * the element); tensors of any other dtype the format defines are checked (shape, offsets) and
     * listed in {@link Converted#others()} without their data; an unknown dtype is an error.
     */
    public static Converted readConverted(Path file) throws IOException {
        return read(file, true);
    }

    private static Converted read(Path file, boolean convert) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new IOException(file + ": not a safetensors file (" + size + " bytes, shorter than the 8-byte header length)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long hlen = lenBuf.flip().getLong();
            if (hlen <= 1 || hlen > MAX_HEADER || hlen > size - 8) {
                throw new IOException(file + ": header length " + Long.toUnsignedString(hlen) + " at offset 0 is impossible for a file of "
                        + size + " bytes (it must be from 2 to " + Math.min(MAX_HEADER, size - 8) + ")");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) hlen);
            readFully(ch, hb, 8, file);
            String json = new String(hb.array(), StandardCharsets.UTF_8);
            Object parsed;
            try {
                parsed = Json.parse(json);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": header is not valid JSON: " + e.getMessage(), e);
            }
            if (!(parsed instanceof Map<?, ?> header)) {
                throw new IOException(file + ": header must be a JSON object");
            }
            long dataStart = 8 + hlen, dataLen = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            record Span(String name, long begin, long end, int[] shape, String dtype) {}
            List<Span> spans = new ArrayList<>();
            for (Map.Entry<?, ?> e : header.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals("__metadata__")) {
                    if (!(e.getValue() instanceof Map<?, ?> md)) {
                        throw new IOException(file + ": __metadata__ must be an object of strings");
                    }
                    for (Map.Entry<?, ?> m : md.entrySet()) {
                        if (!(m.getValue() instanceof String sv)) {
                            throw new IOException(file + ": __metadata__." + m.getKey() + " must be a string");
                        }
                        metadata.put((String) m.getKey(), sv);
                    }
                    continue;
                }
                if (!(e.getValue() instanceof Map<?, ?> t)) {
                    throw new IOException(file + ": tensor " + name + " must be described by an object");
                }
                if (!(t.get("dtype") instanceof String dtype) || (convert ? elementBytes(dtype) < 0 : !dtype.equals("F32"))) {
                    throw new IOException(file + ": tensor " + name + " has dtype " + Json.write(t.get("dtype")) + (convert
                            ? "; not a safetensors dtype (F32, F16, BF16, F64 are read as float32; I64, I32, ... are listed)"
                            : "; latent4j reads F32 only"));
                }
                int bytesPer = elementBytes(dtype);
                int[] shape = shape(t.get("shape"), file, name);
                long count = 1;
                for (int d : shape) {
                    count = Math.multiplyExact(count, (long) d);
                    if (count > Integer.MAX_VALUE) {
                        throw new IOException(file + ": tensor " + name + " has " + count + "+ elements, more than latent4j holds in one array");
                    }
                }
                if (!(t.get("data_offsets") instanceof List<?> offs) || offs.size() != 2
                        || !(offs.get(0) instanceof Double b0) || !(offs.get(1) instanceof Double e0)
                        || b0 < 0 || e0 < b0 || b0 != Math.rint(b0) || e0 != Math.rint(e0)) {
                    throw new IOException(file + ": tensor " + name + " needs data_offsets [begin, end] with 0 <= begin <= end");
                }
                long begin = b0.longValue(), end = e0.longValue();
                if (end > dataLen) {
                    throw new IOException(file + ": tensor " + name + " ends at data offset " + end + " but the file has only "
                            + dataLen + " bytes of data (truncated?)");
                }
                if (end - begin != count * bytesPer) {
                    throw new IOException(file + ": tensor " + name + " has shape " + java.util.Arrays.toString(shape) + " (" + count
                            + (dtype.equals("F32") ? " floats, " : " " + dtype + " values, ") + count * bytesPer + " bytes) but data_offsets span "
                            + (end - begin) + " bytes");
                }
                spans.add(new Span(name, begin, end, shape, dtype));
            }
            spans.sort((a, b) -> Long.compare(a.begin(), b.begin()));
            Span last = null;
            for (Span sp : spans) {
                if (sp.end() == sp.begin()) {
                    continue;   // an empty tensor takes no bytes and overlaps nothing
                }
                if (last != null && sp.begin() < last.end()) {
                    throw new IOException(file + ": tensors " + last.name() + " and " + sp.name() + " overlap");
                }
                last = sp;
            }
            Map<String, Entry> tensors = new LinkedHashMap<>();
            Map<String, String> dtypes = new LinkedHashMap<>();
            Map<String, Other> others = new LinkedHashMap<>();
            for (Span sp : spans) {
                if (!isFloat(sp.dtype())) {
                    others.put(sp.name(), new Other(sp.name(), sp.dtype(), sp.shape()));
                    continue;
                }
                int bytesPer = elementBytes(sp.dtype());
                long byteCount = sp.end() - sp.begin();   // at most Integer.MAX_VALUE elements of at most 8 bytes: checked above
                int n = (int) (byteCount / bytesPer);
                float[] data = new float[n];
                // In blocks of at most 1 MiB, so that an F64 tensor of up to 2^31 elements needs no byte array of 16 GiB.
                int perBlock = (1 << 20) / bytesPer;
                ByteBuffer bb = ByteBuffer.allocate(Math.min(n, perBlock) * bytesPer).order(ByteOrder.LITTLE_ENDIAN);
                for (int at = 0; at < n; at += perBlock) {
                    int m = Math.min(perBlock, n - at);
                    bb.clear().limit(m * bytesPer);
                    readFully(ch, bb, dataStart + sp.begin() + (long) at * bytesPer, file);
                    bb.flip();
                    convert(bb, sp.dtype(), data, at, m, file, sp.name());
                }
                tensors.put(sp.name(), new Entry(sp.name(), sp.shape(), data, 0));
                dtypes.put(sp.name(), sp.dtype());
            }
            return new Converted(new Contents(metadata, tensors), dtypes, others);
        }
    }

    /** m values of the dtype from b (little-endian, position 0) into out[at, at + m) as float32. */
    private static void convert(ByteBuffer b, String dtype, float[] out, int at, int m, Path file, String name) throws IOException {
        switch (dtype) {
            case "F32" -> b.asFloatBuffer().get(out, at, m);
            case "F16" -> {
                for (int i = 0; i < m; i++) {
                    out[at + i] = Float.float16ToFloat(b.getShort(2 * i));
                }
            }
            case "BF16" -> {
                for (int i = 0; i < m; i++) {
                    out[at + i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
                }
            }
            case "F64" -> {
                for (int i = 0; i < m; i++) {
                    double v = b.getDouble(8 * i);
                    float f = (float) v;
                    if (Float.isInfinite(f) && !Double.isInfinite(v)) {
                        throw new IOException(file + ": tensor " + name + " element " + (at + i) + " is " + v + ", beyond float32's range");
                    }
                    out[at + i] = f;
                }
            }
            default -> throw new IllegalStateException("not a float dtype: " + dtype);
        }
    }

    private static int[] shape(Object v, Path file, String name) throws IOException {
        if (!(v instanceof List<?> l) || l.size() > 8) {
            throw new IOException(file + ": tensor " + name + " needs a shape list of at most 8 dimensions");
        }
        int[] s = new int[l.size()];
        for (int i = 0; i < s.length; i++) {
            if (!(l.get(i) instanceof Double d) || d < 0 || d != Math.rint(d) || d > Integer.MAX_VALUE) {
                throw new IOException(file + ": tensor " + name + " has a bad dimension " + Json.write(l.get(i)));
            }
            s[i] = d.intValue();
        }
        return s;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos + b.position());
            if (r < 0) {
                throw new IOException(file + ": truncated at byte " + (pos + b.position()));
            }
        }
    }
}
