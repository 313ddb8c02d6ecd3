package org.latent4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code latent4j} command line. Usage errors print one line and exit with 2; failures
 * print one line and exit with 1 (2 for bad input); {@code --debug} adds the stack trace.
 */
@Command(name = "latent4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Pure-Java autoencoders and VAEs.",
        subcommands = {DemoCommand.class, TrainCommand.class, UseCommands.Eval.class, UseCommands.Encode.class,
            UseCommands.Reconstruct.class, UseCommands.Denoise.class, UseCommands.Interpolate.class, UseCommands.Sample.class, VqCommands.Decode.class, VqCommands.FitPrior.class, UseCommands.Score.class, UseCommands.Calibrate.class, ProbeCommand.class, InfoCommand.class, LinearCommands.PcaCommand.class,
            LinearCommands.PpcaCommand.class, ViewCommand.class, ImportCommand.class, ExportCommand.class, BenchCommand.class, EnvCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** What {@code latent4j} alone prints: where to start, not the whole list (that is {@code latent4j --help}). */
    static final String START = """
            latent4j: pure-Java autoencoders and VAEs. Where to start:
              latent4j demo                             train a VAE on the bundled Fashion-MNIST slice, write pictures
              latent4j train --data FILE.csv            train on your own data (.csv, .npy, IDX; --help for the options)
              latent4j encode|reconstruct|score|sample --model RUN/model.safetensors --data FILE.csv --out OUT.csv
                                                        use a trained model on rows (sample takes no --data)
              latent4j view RUN_DIR | view --model FILE --data FILE  a local page: a run's curves, or the latent space
              latent4j --help                           every command; latent4j COMMAND --help: its options
            """;

    @Override
    public void run() {
        spec.commandLine().getOut().print(START);
        spec.commandLine().getOut().flush();
    }

    private static final java.util.Set<String> COMPUTING = java.util.Set.of(
            "demo", "train", "eval", "encode", "reconstruct", "denoise", "interpolate", "sample", "decode", "fit-prior", "score", "calibrate", "probe", "pca", "ppca");

    public static void main(String[] args) {
        // The JIT compiles the GEMM kernels on a spare core while a command that computes reads
        // its files (not for bench, whose timings it would disturb, nor info, env or help).
        if (args.length > 0 && COMPUTING.contains(args[0])) {
            Thread.ofPlatform().daemon().name("latent4j-warm-up").start(org.latent4j.kernel.Gemm::warmUp);
        }
        int code = execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        // The launcher, while the JVM records an AOT cache, makes one only of a command that succeeded.
        String aotOk = System.getProperty("latent4j.aot.ok");
        if (code == 0 && aotOk != null) {
            try {
                java.nio.file.Files.writeString(java.nio.file.Path.of(aotOk), "");
            } catch (java.io.IOException | RuntimeException e) {
                // no cache this time
            }
        }
        System.exit(code);
    }

    /** Runs the command line; returns the exit code. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        Main main = new Main();
        CommandLine cl = new CommandLine(main);
        standardHelp(cl);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("latent4j: " + ex.getMessage() + " (see 'latent4j " + commandPath(ex.getCommandLine()) + "--help')");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean badInput = ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                    || ex instanceof java.io.UncheckedIOException;
            boolean failed = ex instanceof org.latent4j.train.TrainingFailedException;
            err.println("latent4j: " + (badInput || failed ? "" : "internal error: ") + message(ex));
            if (main.debug) {
                ex.printStackTrace(err);
            } else if (!badInput && !failed) {
                err.println("(run again with --debug for the stack trace)");
            }
            return badInput ? 2 : 1;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            // picocli hands only Exceptions to the handler above; a heap too small for the data gets one line, not a stack trace
            err.println("latent4j: out of memory (Java heap of " + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB): "
                    + message(e) + "; give the JVM more, e.g. LATENT4J_JAVA_OPTS=-Xmx8g, or fewer rows (--rows where the command has it)");
            return 1;
        }
    }

    /** -h/--help and -V/--version on every command and subcommand (the help command has its own -h). */
    static void standardHelp(CommandLine cl) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!(sub.getCommand() instanceof CommandLine.HelpCommand)) {
                sub.getCommandSpec().mixinStandardHelpOptions(true);
                sub.getCommandSpec().versionProvider(new Version());
                standardHelp(sub);
            }
        }
    }

    private static String commandPath(CommandLine cl) {
        StringBuilder sb = new StringBuilder();
        for (CommandLine c = cl; c != null && c.getParent() != null; c = c.getParent()) {
            sb.insert(0, c.getCommandName() + " ");
        }
        return sb.toString();
    }

    private static String message(Throwable ex) {
        if (ex instanceof java.io.UncheckedIOException u) {
            ex = u.getCause();
        }
        String m = ex.getMessage();
        return m == null || m.isBlank() ? ex.getClass().getSimpleName() : m;
    }

    /** The project's version (pom.xml), from the resource the build writes; "unknown" outside a Maven build. */
    static String projectVersion() {
        try (var in = Main.class.getResourceAsStream("/org/latent4j/version.properties")) {
            if (in == null) {
                return "unknown";
            }
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"latent4j " + projectVersion() + ", Java " + Runtime.version()};
        }
    }
}
