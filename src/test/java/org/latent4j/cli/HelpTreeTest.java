package org.latent4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Walks the whole command tree: --help and --version work on every command, and every option says its default. */
class HelpTreeTest {
    /** Every command path below latent4j, e.g. [train], [bench, gemm]. */
    static List<List<String>> commands() {
        CommandLine root = new CommandLine(new Main());
        Main.standardHelp(root);
        List<List<String>> out = new ArrayList<>();
        walk(root, new ArrayList<>(), out);
        return out;
    }

    private static void walk(CommandLine cl, List<String> path, List<List<String>> out) {
        for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
            List<String> p = new ArrayList<>(path);
            p.add(e.getKey());
            out.add(p);
            walk(e.getValue(), p, out);
        }
    }

    @Test
    void helpAndVersionOnEveryCommand() {
        List<List<String>> all = commands();
        assertTrue(all.size() > 20, "the tree has the commands and the bench subcommands: " + all);
        assertTrue(all.contains(List.of("bench", "gemm")) && all.contains(List.of("train")), all.toString());
        for (List<String> path : all) {
            for (String flag : new String[] {"--help", "-h"}) {
                List<String> args = new ArrayList<>(path);
                args.add(flag);
                MainTest.Run r = MainTest.run(args.toArray(new String[0]));
                assertEquals(0, r.code(), args + ": " + r.err());
                assertTrue(r.out().contains("Usage: latent4j " + String.join(" ", path)), args + " prints the usage: " + r.out());
                assertTrue(r.err().isEmpty(), args + ": " + r.err());
            }
            if (path.get(0).equals("help")) {
                continue;   // picocli's help command takes -h but no --version
            }
            List<String> args = new ArrayList<>(path);
            args.add("--version");
            MainTest.Run r = MainTest.run(args.toArray(new String[0]));
            assertEquals(0, r.code(), args + ": " + r.err());
            assertTrue(r.out().startsWith("latent4j " + Main.projectVersion() + ", Java "), args + ": " + r.out());
        }
        assertTrue(Main.projectVersion().matches("\\d+\\.\\d+\\.\\d+.*"), "the pom's version: " + Main.projectVersion());
        MainTest.Run top = MainTest.run("--version");
        assertEquals(0, top.code());
        assertTrue(top.out().startsWith("latent4j " + Main.projectVersion()), top.out());
    }

    @Test
    void everyOptionSaysItsDefault() {
        List<String> missing = new ArrayList<>();
        CommandLine root = new CommandLine(new Main());
        Main.standardHelp(root);
        List<CommandLine> all = new ArrayList<>(List.of(root));
        for (int i = 0; i < all.size(); i++) {
            all.addAll(all.get(i).getSubcommands().values());
        }
        for (CommandLine cl : all) {
            for (OptionSpec o : cl.getCommandSpec().options()) {
                boolean flag = o.arity().max() == 0;   // a switch: off unless given
                if (flag || o.required() || o.usageHelp() || o.versionHelp()) {
                    continue;
                }
                String d = String.join(" ", o.description()).toLowerCase(java.util.Locale.ROOT);
                if (!d.contains("default")) {
                    missing.add(cl.getCommandSpec().qualifiedName() + " " + o.longestName());
                }
            }
        }
        assertTrue(missing.isEmpty(), "options whose description does not say their default: " + missing);
    }

    @Test
    void sharedOptionsHaveOneDefaultEverywhere() {
        CommandLine root = new CommandLine(new Main());
        List<CommandLine> all = new ArrayList<>(List.of(root));
        for (int i = 0; i < all.size(); i++) {
            all.addAll(all.get(i).getSubcommands().values());
        }
        int seeds = 0;
        for (CommandLine cl : all) {
            if (cl.getCommandSpec().qualifiedName().startsWith("latent4j bench")) {
                continue;   // benchmarks fix their own workloads
            }
            OptionSpec seed = cl.getCommandSpec().findOption("--seed"), samples = cl.getCommandSpec().findOption("--samples");
            if (seed != null) {
                seeds++;
                assertEquals("42", seed.defaultValue(), cl.getCommandSpec().qualifiedName());
            }
            if (samples != null) {
                assertEquals("1", samples.defaultValue(), cl.getCommandSpec().qualifiedName());
            }
            OptionSpec threads = cl.getCommandSpec().findOption("--threads");
            if (threads != null) {
                assertEquals(null, threads.defaultValue(), cl.getCommandSpec().qualifiedName() + ": all cores");
            }
        }
        assertTrue(seeds >= 7, "demo, train, eval, score, calibrate, sample, ppca: " + seeds);
    }

    @Test
    void noCommandPrintsWhereToStart() {
        MainTest.Run r = MainTest.run();
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("latent4j demo") && r.out().contains("train --data") && r.out().contains("--help"), r.out());
        assertTrue(r.out().lines().count() < 12, "short, not the whole list: " + r.out());
        assertFalse(r.out().contains("Usage:"), r.out());
        MainTest.Run bad = MainTest.run("train", "--epochz", "1");
        assertTrue(bad.err().contains("(see 'latent4j train --help')"), bad.err());
        MainTest.Run pointed = MainTest.run("train", "--help");
        assertEquals(0, pointed.code(), "the help an error points to works");
        assertTrue(pointed.out().contains("--epochs"), pointed.out());
    }
}
