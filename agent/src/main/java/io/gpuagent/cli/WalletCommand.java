package io.gpuagent.cli;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.escrow.WalletException;
import io.gpuagent.escrow.WalletPassword;
import io.gpuagent.escrow.web3j.Keystore;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.Console;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code gpu-agent wallet}: the payout wallet's encrypted keystore (docs/payments.md). Passwords come
 * from a file (mode 0600/0400, owned by you) or are typed at a prompt, never from the command line.
 */
@Command(name = "wallet", mixinStandardHelpOptions = true,
        description = {"Create, import or show the payout wallet (an encrypted Ethereum keystore; default "
                + "<agent.state_dir>/wallet/keystore.json, or escrow.keystore)."},
        subcommands = {WalletCommand.New.class, WalletCommand.Import.class, WalletCommand.Address.class,
                CommandLine.HelpCommand.class})
final class WalletCommand implements Runnable {
    /** The wallet cannot be created or read: the owner must act (same code as a bad config). */
    static final int WALLET_ERROR = ExitCodes.CONFIG;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a wallet command is required (new, import, address)");
    }

    /** Options shared by the commands that write a keystore. */
    abstract static class Writing implements Callable<Integer> {
        @CommandLine.Mixin
        CommandSupport.ConfigOptions options = new CommandSupport.ConfigOptions();

        @CommandLine.Option(names = "--keystore", paramLabel = "PATH", description = "the keystore file to write "
                + "(default: escrow.keystore, else <agent.state_dir>/wallet/keystore.json); never overwritten")
        Path keystore;

        @CommandLine.Option(names = "--password-file", paramLabel = "FILE", description = "read the new password "
                + "from FILE (mode 0600 or 0400, owned by you); without it you are asked twice")
        Path passwordFile;

        @CommandLine.Option(names = "--light-kdf", hidden = true, description = "weak scrypt parameters: for tests only")
        boolean lightKdf;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        abstract String write(Path file, String password) throws WalletException;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Path file;
            try {
                file = keystore != null ? keystore : defaultKeystore(options.load());
            } catch (ConfigException e) {
                return CommandSupport.configError(err, e);
            }
            try {
                String address = write(file, password());
                out.println("wallet " + address);
                out.println("keystore " + file.toAbsolutePath());
                out.println("Back up the keystore and its password: without both, payouts to this address are lost.");
                out.flush();
                return ExitCodes.OK;
            } catch (WalletException e) {
                err.println("gpu-agent: " + e.getMessage());
                return WALLET_ERROR;
            }
        }

        private String password() throws WalletException {
            if (passwordFile != null) {
                return WalletPassword.readFile(passwordFile);
            }
            Console console = System.console();
            if (console == null) {
                throw new WalletException("no terminal to ask for a password: give --password-file FILE (chmod 600)");
            }
            char[] a = console.readPassword("New wallet password: ");
            char[] b = console.readPassword("Repeat it: ");
            try {
                if (a == null || b == null || a.length == 0) {
                    throw new WalletException("no password given");
                }
                if (!Arrays.equals(a, b)) {
                    throw new WalletException("the passwords differ; nothing written");
                }
                return new String(a);
            } finally {
                if (a != null) {
                    Arrays.fill(a, '\0');
                }
                if (b != null) {
                    Arrays.fill(b, '\0');
                }
            }
        }
    }

    static Path defaultKeystore(AgentConfig config) {
        return Keystore.path(config.escrow().keystore(), Path.of(config.agent().stateDir()));
    }

    /** {@code gpu-agent wallet new}. */
    @Command(name = "new", mixinStandardHelpOptions = true,
            description = {"Create a wallet with a new random key, encrypted with your password (scrypt).",
                "Exit codes: 0 ok, 3 bad config, keystore already there, or password refused."})
    static final class New extends Writing {
        @Override
        String write(Path file, String password) throws WalletException {
            return Keystore.create(file, password, lightKdf);
        }
    }

    /** {@code gpu-agent wallet import}. */
    @Command(name = "import", mixinStandardHelpOptions = true,
            description = {"Create a wallet from an existing private key read from a file (64 hex digits).",
                "Exit codes: 0 ok, 3 bad config, keystore already there, bad key or password refused."})
    static final class Import extends Writing {
        @CommandLine.Option(names = "--private-key-file", paramLabel = "FILE", required = true,
                description = "the private key, 64 hex digits (0x optional); mode 0600 or 0400, owned by you")
        Path privateKeyFile;

        @Override
        String write(Path file, String password) throws WalletException {
            return Keystore.importKey(file, WalletPassword.readFile(privateKeyFile), password, lightKdf);
        }
    }

    /** {@code gpu-agent wallet address}. */
    @Command(name = "address", mixinStandardHelpOptions = true,
            description = {"Print the wallet's payout address, read from the keystore without decrypting it.",
                "Exit codes: 0 ok, 3 bad config or no readable keystore."})
    static final class Address implements Callable<Integer> {
        @CommandLine.Mixin
        CommandSupport.ConfigOptions options = new CommandSupport.ConfigOptions();

        @CommandLine.Option(names = "--keystore", paramLabel = "PATH", description = "the keystore (default: from the config)")
        Path keystore;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            try {
                Path file = keystore != null ? keystore : defaultKeystore(options.load());
                spec.commandLine().getOut().println(Keystore.address(file));
                spec.commandLine().getOut().flush();
                return ExitCodes.OK;
            } catch (ConfigException e) {
                return CommandSupport.configError(spec.commandLine().getErr(), e);
            } catch (WalletException e) {
                spec.commandLine().getErr().println("gpu-agent: " + e.getMessage());
                return WALLET_ERROR;
            }
        }
    }
}
