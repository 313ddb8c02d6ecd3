package org.latent4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IDX, CSV and .npy: good files read right, bad ones fail with the file, the place and the reason. */
class ReadersTest {
    static byte[] idx(int n, int rows, int cols, int fill) {
        ByteBuffer b = ByteBuffer.allocate(16 + n * rows * cols).order(ByteOrder.BIG_ENDIAN);
        b.putInt(0x00000803).putInt(n).putInt(rows).putInt(cols);
        for (int i = 0; i < n * rows * cols; i++) {
            b.put((byte) (fill + i));
        }
        return b.array();
    }

    static byte[] gzip(byte[] d) throws IOException {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(o)) {
            g.write(d);
        }
        return o.toByteArray();
    }

    @Test
    void idxPlainAndGzipReadTheSame(@TempDir Path dir) throws IOException {
        Path plain = dir.resolve("a-idx3-ubyte"), gz = dir.resolve("a-idx3-ubyte.gz");
        Files.write(plain, idx(3, 2, 2, 10));
        Files.write(gz, gzip(idx(3, 2, 2, 10)));
        Dataset p = Idx.readImages(plain, null), g = Idx.readImages(gz, null);
        assertEquals(3, p.rows());
        assertEquals(4, p.features());
        assertEquals(10 / 255f, p.x()[0]);
        assertArrayEquals(p.x(), g.x());
    }

    @Test
    void badIdxFilesSayWhatIsWrong(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("bad-idx3-ubyte");
        byte[] ok = idx(3, 2, 2, 0);
        byte[] magic = ok.clone();
        magic[0] = 7;
        Files.write(f, magic);
        assertTrue(fails(f).contains("bad magic number"), fails(f));
        Files.write(f, java.util.Arrays.copyOf(ok, ok.length - 3));
        assertTrue(fails(f).contains("truncated") && fails(f).contains("offset"), fails(f));
        byte[] huge = ok.clone();
        ByteBuffer.wrap(huge).putInt(4, 1 << 30);
        Files.write(f, huge);
        assertTrue(fails(f).contains("more than the"), fails(f));
        byte[] gz = gzip(ok);
        Files.write(f, java.util.Arrays.copyOf(gz, gz.length - 10));
        assertTrue(fails(f).contains(f.toString()), fails(f));
        Files.write(f, new byte[] {0, 0, 8});
        assertTrue(fails(f).contains("truncated header"), fails(f));
    }

    static String fails(Path f) {
        return assertThrows(IOException.class, () -> Idx.readImages(f, null)).getMessage();
    }

    @Test
    void csvWithHeaderAndErrorsNamingLineAndColumn(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("d.csv");
        Files.writeString(f, "a,b,c\n1,2,3\n4.5,5,-6\n");
        Dataset d = Csv.read(f);
        assertEquals(2, d.rows());
        assertEquals(3, d.features());
        assertEquals(-6f, d.x()[5]);
        Files.writeString(f, "1,2,3\n4,5\n");
        String e = assertThrows(IOException.class, () -> Csv.read(f)).getMessage();
        assertTrue(e.contains("line 2 has 2 columns"), e);
        Files.writeString(f, "1,2,3\n4,x,6\n");
        e = assertThrows(IOException.class, () -> Csv.read(f)).getMessage();
        assertTrue(e.contains("line 2, column 2: 'x' is not a number"), e);
        Files.writeString(f, "1,2,3\n4,NaN,6\n");
        e = assertThrows(IOException.class, () -> Csv.read(f)).getMessage();
        assertTrue(e.contains("line 2, column 2") && e.contains("not a finite number"), e);
        Files.writeString(f, "a,b\n");
        e = assertThrows(IOException.class, () -> Csv.read(f)).getMessage();
        assertTrue(e.contains("no data rows"), e);
    }

    static byte[] npy(String descr, boolean fortran, String shape, byte[] data) {
        String h = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (" + shape + "), }";
        int total = 10 + h.length() + 1;
        int pad = (64 - total % 64) % 64;
        h = h + " ".repeat(pad) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + h.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) h.length()).put(h.getBytes(StandardCharsets.US_ASCII)).put(data);
        return b.array();
    }

    @Test
    void npyFloat32AndItsErrors(@TempDir Path dir) throws IOException {
        ByteBuffer v = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            v.putFloat(i * 0.5f);
        }
        Path f = dir.resolve("x.npy");
        Files.write(f, npy("<f4", false, "2, 3", v.array()));
        Dataset d = Npy.read(f);
        assertEquals(2, d.rows());
        assertEquals(3, d.features());
        assertEquals(2.5f, d.x()[5]);
        Files.write(f, npy("<i8", false, "2, 3", new byte[48]));
        String e = assertThrows(IOException.class, () -> Npy.read(f)).getMessage();
        assertTrue(e.contains("dtype '<i8' is not supported"), e);
        Files.write(f, npy("<f4", true, "2, 3", v.array()));
        e = assertThrows(IOException.class, () -> Npy.read(f)).getMessage();
        assertTrue(e.contains("Fortran-order"), e);
        Files.write(f, npy("<f4", false, "2, 4", v.array()));
        e = assertThrows(IOException.class, () -> Npy.read(f)).getMessage();
        assertTrue(e.contains("needs 32 bytes of data but the file has 24"), e);
    }
}
