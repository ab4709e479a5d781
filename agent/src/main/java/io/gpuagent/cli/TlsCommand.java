package io.gpuagent.cli;

import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.market.tls.Fingerprints;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.concurrent.Callable;

/**
 * {@code gpu-agent tls}: TLS for the scheduler link (docs/tls.md). {@code fingerprint} is here;
 * {@code init}, which makes a development CA, is a development tool that plugs in
 * ({@link CommandPlugin}).
 */
@Command(name = "tls", mixinStandardHelpOptions = true,
        description = "TLS for the scheduler link: create development certificates, print fingerprints for tls_pins.",
        subcommands = {TlsCommand.Fingerprint.class, CommandLine.HelpCommand.class})
final class TlsCommand implements Runnable {
    /** A file cannot be read or is not a certificate: the owner must act, as for a bad config. */
    static final int TLS_FILE_PROBLEM = ExitCodes.CONFIG;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a tls command is required (init, fingerprint)");
    }

    /** {@code gpu-agent tls fingerprint FILE}: the SHA-256 fingerprint of each certificate in a PEM file. */
    @Command(name = "fingerprint", mixinStandardHelpOptions = true,
            description = {"Print the SHA-256 fingerprint of the certificate in FILE (PEM or DER), in the form "
                    + "market.tls_pins accepts. With a chain, the first (the leaf) is what peers pin; each is printed.",
                "Exit codes: 0 ok, 3 the file is missing or holds no certificate."})
    static final class Fingerprint implements Callable<Integer> {
        @CommandLine.Parameters(paramLabel = "FILE", description = "a certificate file, e.g. agent.pem")
        Path file;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Collection<? extends java.security.cert.Certificate> certs;
            try {
                byte[] bytes = Files.readAllBytes(file);
                certs = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes));
            } catch (NoSuchFileException e) {
                err.println("gpu-agent: " + file + " does not exist");
                return TLS_FILE_PROBLEM;
            } catch (IOException e) {
                err.println("gpu-agent: cannot read " + file + ": " + e);
                return TLS_FILE_PROBLEM;
            } catch (CertificateException e) {
                err.println("gpu-agent: " + file + " holds no readable certificate (" + e.getMessage() + ")");
                return TLS_FILE_PROBLEM;
            }
            if (certs.isEmpty()) {
                err.println("gpu-agent: " + file + " holds no certificate (a key file?)");
                return TLS_FILE_PROBLEM;
            }
            boolean first = true;
            for (java.security.cert.Certificate c : certs) {
                X509Certificate x = (X509Certificate) c;
                out.println(Fingerprints.sha256(x) + "  " + x.getSubjectX500Principal().getName()
                        + (first && certs.size() > 1 ? "  (leaf: pin this one)" : ""));
                first = false;
            }
            out.flush();
            return ExitCodes.OK;
        }
    }
}
