package io.gpuagent.cli;

/**
 * A command that plugs into {@code gpu-agent} from outside the production packages: the
 * development tools (the demo, the scheduler player, {@code tls init}) ship in the same jar but
 * no production class imports them. Implementations are listed in
 * {@code META-INF/services/io.gpuagent.cli.CommandPlugin} and found with
 * {@link java.util.ServiceLoader} when {@link Main#commandLine()} builds the command line; when
 * none is there (or one cannot be loaded), the other commands work as before.
 *
 * <p>Contract: {@link #command()} returns a new picocli {@code @Command} object each call;
 * {@link #parent()} and {@link #before()} only place it.
 */
public interface CommandPlugin {
    /**
     * The command it attaches under, as the words an owner types after {@code gpu-agent}:
     * {@code ""} for a top-level command, {@code "tls"} for one under {@code gpu-agent tls}.
     * A plugin whose parent does not exist is left out.
     */
    String parent();

    /**
     * The sibling it is listed before in {@code --help} (e.g. {@code "help"}); {@code ""}, or a
     * name that is not there, lists it last.
     */
    default String before() {
        return "";
    }

    /** A new instance of the command: an object whose class carries picocli's {@code @Command}. */
    Object command();
}
