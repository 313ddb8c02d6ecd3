package org.latent4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** {@link SpinTeam}: every task once per call, over many calls (spinning and parked helpers), and failures passed to the caller. */
class SpinTeamTest {
    @Test
    void everyTaskRunsExactlyOncePerCallAcrossManyCalls() throws Exception {
        for (long spin : new long[] {0, 1_000_000}) {   // helpers that park after every call, and helpers that stay hot
            try (SpinTeam team = new SpinTeam(3, spin)) {
                for (int call = 0; call < 2000; call++) {
                    int tasks = 1 + call % 7;
                    AtomicIntegerArray hits = new AtomicIntegerArray(tasks);
                    team.run(tasks, hits::incrementAndGet);
                    for (int i = 0; i < tasks; i++) {
                        assertEquals(1, hits.get(i), "call " + call + ", task " + i + " of " + tasks + ", spin " + spin);
                    }
                    if (call % 500 == 499) {
                        Thread.sleep(3);   // past the spin: the helpers park and must be woken
                    }
                }
            }
        }
    }

    @Test
    @SuppressWarnings("try")   // closes the team inside its try on purpose: a closed team must refuse work
    void usesItsHelpersAndPassesAFailureToTheCaller() {
        try (SpinTeam team = new SpinTeam(2, 1_000_000)) {
            String[] who = new String[2];
            team.run(2, t -> who[t] = Thread.currentThread().getName());
            assertEquals(Thread.currentThread().getName(), who[0]);
            assertTrue(who[1].startsWith("latent4j-spin-"), Arrays.toString(who));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> team.run(2, t -> {
                if (t == 1) {
                    throw new IllegalStateException("share " + t);
                }
            }));
            assertEquals("share 1", e.getMessage());
            int[] after = new int[2];
            team.run(2, t -> after[t] = t + 1);   // still works after a failure
            assertEquals("[1, 2]", Arrays.toString(after));
            team.close();
            assertThrows(IllegalStateException.class, () -> team.run(2, t -> { }));
        }
    }
}
