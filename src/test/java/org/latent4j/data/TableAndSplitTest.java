package org.latent4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Csv.readTable (header, label and ID columns, quotes) and Dataset.split (sizes, seeds, rows kept whole). */
class TableAndSplitTest {
    @Test
    void headerLabelAndIdColumnsByNameOrNumber(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("t.csv"), "name,x,y,class\n\"Smith, J\",1.5,2,1\nLee,3,4.25,0\n\n\"say \"\"hi\"\"\",5,6,1\n");
        Csv.Table t = Csv.readTable(f, "class", "name", false);
        assertArrayEquals(new String[] {"x", "y"}, t.featureNames());
        assertArrayEquals(new String[] {"Smith, J", "Lee", "say \"hi\""}, t.ids());
        assertEquals("name", t.idName());
        assertArrayEquals(new int[] {1, 0, 1}, t.data().labels());
        assertArrayEquals(new float[] {1.5f, 2, 3, 4.25f, 5, 6}, t.data().x());
        Csv.Table byNumber = Csv.readTable(f, "4", "1", false);
        assertArrayEquals(t.data().x(), byNumber.data().x());
        assertArrayEquals(t.ids(), byNumber.ids());
        // no header, a text ID column given by number: the first line is data, not a header
        Path g = Files.writeString(dir.resolve("g.csv"), "a7,1,2\nb8,3,4\n");
        Csv.Table n = Csv.readTable(g, null, "1", false);
        assertNull(n.featureNames());
        assertEquals(2, n.data().rows());
        assertArrayEquals(new String[] {"a7", "b8"}, n.ids());
        // a plain numeric CSV reads as Csv.read does
        Path h = Files.writeString(dir.resolve("h.csv"), "1,2\n3,4\n");
        assertArrayEquals(Csv.read(h).x(), Csv.readTable(h, null, null, false).data().x());
        assertEquals("\"a,b\"", Csv.quote("a,b"));
        assertEquals("plain", Csv.quote("plain"));
    }

    @Test
    void tableErrorsNameLineColumnAndName(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("t.csv"), "id,x,y\nr1,1,2\nr2,,4\n");
        String e = assertThrows(IOException.class, () -> Csv.readTable(f, null, "id", false)).getMessage();
        assertTrue(e.contains("line 3, column 2 (x): '' is not a number (an empty cell)"), e);
        e = assertThrows(IOException.class, () -> Csv.readTable(f, "id", "id", false)).getMessage();
        assertTrue(e.contains("--label-column and --id-column both name column 1"), e);
        Path only = Files.writeString(dir.resolve("o.csv"), "id,y\nr1,1\n");
        e = assertThrows(IOException.class, () -> Csv.readTable(only, "y", "id", false)).getMessage();
        assertTrue(e.contains("no feature columns left"), e);
        Path nan = Files.writeString(dir.resolve("n.csv"), "x,y\n1,2\nnan,4\n5,6\n");
        Csv.Table dropped = Csv.readTable(nan, null, null, true);
        assertEquals(2, dropped.data().rows());
        assertEquals(1, dropped.data().droppedRows());
    }

    static Dataset numbered(int n) {
        float[] x = new float[n * 2];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = -i;
            labels[i] = i % 7;
        }
        return new Dataset(x, n, 2, labels, "numbered");
    }

    @Test
    void splitSizesSeedsAndWholeRows() {
        Dataset d = numbered(1000);
        Dataset.Split s = d.split(0.1, 42);
        assertEquals(100, s.validation().rows());
        assertEquals(900, s.train().rows());
        Set<Integer> seen = new HashSet<>();
        for (Dataset part : new Dataset[] {s.train(), s.validation()}) {
            int last = -1;
            for (int r = 0; r < part.rows(); r++) {
                int i = (int) part.x()[2 * r];
                assertEquals(-i, part.x()[2 * r + 1], "a row stays whole");
                assertEquals(i % 7, part.labels()[r], "labels follow their rows");
                assertTrue(i > last, "each part keeps the file's order");
                last = i;
                assertTrue(seen.add(i), "row " + i + " in one part only");
            }
        }
        assertEquals(1000, seen.size(), "every row in one part");
        assertArrayEquals(s.validation().x(), d.split(0.1, 42).validation().x(), "the same seed, the same split");
        assertFalse(java.util.Arrays.equals(s.validation().x(), d.split(0.1, 43).validation().x()), "another seed, another split");
        assertEquals(1, numbered(5).split(0.01, 1).validation().rows(), "at least one row held out");
        assertEquals(33, numbered(130).split(0.25, 1).validation().rows(), "round(0.25 x 130) = 33 (32.5 rounds up)");
        assertThrows(IllegalArgumentException.class, () -> numbered(2).split(0.5, 1));
        assertThrows(IllegalArgumentException.class, () -> d.split(0, 1));
        assertThrows(IllegalArgumentException.class, () -> d.split(1, 1));
        assertThrows(IllegalArgumentException.class, () -> d.split(Double.NaN, 1));
    }
}
