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
            UseCommands.Reconstruct.class, UseCommands.Denoise.class, UseCommands.Interpolate.class, UseCommands.Sample.class, UseCommands.Score.class, UseCommands.Calibrate.class, InfoCommand.class, LinearCommands.PcaCommand.class,
            LinearCommands.PpcaCommand.class, BenchCommand.class, EnvCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    private static final java.util.Set<String> COMPUTING = java.util.Set.of(
            "demo", "train", "eval", "encode", "reconstruct", "denoise", "interpolate", "sample", "score", "calibrate", "pca", "ppca");

    public static void main(String[] args) {
        // The JIT compiles the GEMM kernels on a spare core while a command that computes reads
        // its files (not for bench, whose timings it would disturb, nor info, env or help).
        if (args.length > 0 && COMPUTING.contains(args[0])) {
            Thread.ofPlatform().daemon().name("latent4j-warm-up").start(org.latent4j.kernel.Gemm::warmUp);
        }
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line; returns the exit code. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        Main main = new Main();
        CommandLine cl = new CommandLine(main);
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
        return cl.execute(args);
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

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"latent4j " + (v == null ? "(development build)" : v) + ", Java " + Runtime.version()};
        }
    }
}
