package org.latent4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bad data of RELIABILITY.md, each fed to its reader; the message must name file, place and reason. */
class BadDataTest {
    static String fails(ThrowingRead r) {
        return assertThrows(IOException.class, r::read).getMessage();
    }

    interface ThrowingRead {
        Object read() throws IOException;
    }

    static void contains(String msg, String... parts) {
        for (String p : parts) {
            assertTrue(msg.contains(p), "'" + p + "' in: " + msg);
        }
    }

    @Test
    void csvNonFiniteCellsFailByDefaultAndAreDroppedAndCountedOnRequest(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("d.csv");
        Files.writeString(f, "a,b\n1,2\n3,inf\nNaN,4\n5,6\n");
        contains(fails(() -> Csv.read(f)), f.toString(), "line 3, column 2", "not a finite number");
        Dataset d = Csv.read(f, true);
        assertEquals(2, d.rows());
        assertEquals(2, d.droppedRows());
        assertArrayEquals(new float[] {1, 2, 5, 6}, d.x());
        Files.writeString(f, "NaN,1\n2,Infinity\n");
        contains(fails(() -> Csv.read(f, true)), "no data rows", "all 2 held NaN or infinite values");
        Files.writeString(f, "");
        contains(fails(() -> Csv.read(f)), "no data rows");
        Files.writeString(f, "1,2\n3\n");
        contains(fails(() -> Csv.read(f, true)), "line 2 has 1 columns");
    }

    @Test
    void npyNonFiniteValuesNameRowAndColumnOrAreDropped(@TempDir Path dir) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(1).putFloat(2).putFloat(3).putFloat(Float.NaN).putFloat(5).putFloat(6);
        Path f = dir.resolve("x.npy");
        Files.write(f, ReadersTest.npy("<f4", false, "3, 2", b.array()));
        contains(fails(() -> Npy.read(f)), f.toString(), "row 1, column 1", "NaN");
        Dataset d = Npy.read(f, true);
        assertEquals(2, d.rows());
        assertEquals(1, d.droppedRows());
        assertArrayEquals(new float[] {1, 2, 5, 6}, d.x());
        Files.write(f, ReadersTest.npy("<f4", false, "0, 2", new byte[0]));
        contains(fails(() -> Npy.read(f)), "not a non-empty");
        Files.write(f, ReadersTest.npy(">f4", false, "3, 2", b.array()));
        contains(fails(() -> Npy.read(f)), "dtype '>f4' is not supported");
        Files.write(f, ReadersTest.npy("<f4", false, "3, 2, 2", b.array()));
        contains(fails(() -> Npy.read(f)), "not a non-empty 1-D or 2-D array");
        Files.write(f, ReadersTest.npy("<f4", false, "9223372036854775807, 9223372036854775807", b.array()));
        contains(fails(() -> Npy.read(f)), f.toString());
    }

    @Test
    void idxLabelsThatDoNotMatchTheImagesAndBrokenGzip(@TempDir Path dir) throws IOException {
        Path img = dir.resolve("i-idx3-ubyte"), lab = dir.resolve("l-idx1-ubyte");
        Files.write(img, ReadersTest.idx(3, 2, 2, 0));
        ByteBuffer l = ByteBuffer.allocate(8 + 4).order(ByteOrder.BIG_ENDIAN).putInt(0x00000801).putInt(4);
        Files.write(lab, l.put(new byte[] {1, 2, 3, 4}).array());
        contains(fails(() -> Idx.readImages(img, lab)), lab.toString(), "4 labels", "3 images");

        byte[] gz = ReadersTest.gzip(ReadersTest.idx(50, 28, 28, 7));
        Path cut = dir.resolve("cut-idx3-ubyte.gz");
        Files.write(cut, java.util.Arrays.copyOf(gz, gz.length / 2));
        contains(fails(() -> Idx.readImages(cut, null)), cut.toString(), "gzip data is corrupt or truncated");
        byte[] flipped = gz.clone();
        for (int i = 20; i < flipped.length - 8; i += 7) {
            flipped[i] ^= 0x5a;
        }
        Path bad = dir.resolve("bad-idx3-ubyte.gz");
        Files.write(bad, flipped);
        String m = fails(() -> Idx.readImages(bad, null));
        contains(m, bad.toString(), "gzip");
        byte[] header = gz.clone();
        header[2] = 99;   // compression method
        Path h = dir.resolve("h-idx3-ubyte.gz");
        Files.write(h, header);
        contains(fails(() -> Idx.readImages(h, null)), h.toString(), "gzip");
        Path wrongMagic = dir.resolve("m-idx3-ubyte");
        byte[] w = ReadersTest.idx(1, 2, 2, 0);
        w[0] = 0x7f;
        Files.write(wrongMagic, w);
        contains(fails(() -> Idx.readImages(wrongMagic, null)), "bad magic number 0x7f00", "at offset 0");
    }

    @Test
    void emptyAndMismatchedDataSetsAreRefusedInMemoryToo() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[0], 0, 3, null, "empty"));
        contains(e.getMessage(), "empty", "at least one row");
        e = assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[6], 2, 3, new int[3], "labelled"));
        contains(e.getMessage(), "3 labels for 2 rows");
        float[] x = {1, 2, Float.POSITIVE_INFINITY, 4};
        e = assertThrows(IllegalArgumentException.class, () -> new Dataset(x, 2, 2, null, "mem").requireFinite(false));
        contains(e.getMessage(), "mem: row 1, column 0");
        Dataset kept = new Dataset(x, 2, 2, new int[] {7, 8}, "mem").requireFinite(true);
        assertArrayEquals(new int[] {7}, kept.labels());
        assertEquals(1, kept.droppedRows());
    }
}
