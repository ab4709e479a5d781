package io.gpuagent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gpuagent.config.ConfigException;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.escrow.ClaimView;
import io.gpuagent.escrow.EscrowStore;
import io.gpuagent.escrow.RentalBook;
import io.gpuagent.journal.JournalCorruptException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code gpu-agent claims}: the escrow's books, read-only from the persisted store. */
@Command(name = "claims", mixinStandardHelpOptions = true,
        description = {"List the payout claims and rentals from the escrow store (<agent.state_dir>/escrow):",
            "each claim's state (PENDING, SIGNED, SENT, MINED, FINAL, SKIPPED, FAILED, REVERTED, REPLACED),",
            "rentals, amount, transaction and block; then per rental what is earned (highest voucher) and",
            "claimed. Read-only: safe while the agent runs.",
            "Exit codes: 0 ok, 3 bad config, or a store that is missing, corrupt or unreadable."})
final class ClaimsCommand implements Callable<Integer> {
    /** Made on first use: picocli builds every command to parse any command line, and an ObjectMapper
     * costs a cold JVM hundreds of milliseconds (`gpu-agent --version` paid it for nothing). */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    @CommandLine.Mixin
    CommandSupport.ConfigOptions options = new CommandSupport.ConfigOptions();

    @CommandLine.Option(names = "--dir", paramLabel = "DIR", description = "the escrow store (default: agent.state_dir + /escrow)")
    Path dir;

    @CommandLine.Option(names = "--json", description = "one JSON document: claims and rentals")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path store = dir;
        try {
            if (store == null) {
                store = EscrowStore.directory(Path.of(options.load().agent().stateDir()));
            }
        } catch (ConfigException e) {
            return CommandSupport.configError(err, e);
        }
        EscrowStore.View view;
        try {
            view = EscrowStore.readOnly(store);
        } catch (NoSuchFileException e) {
            err.println("gpu-agent: no escrow store at " + store + " (has the agent run here with escrow.enabled = true?)");
            return ExitCodes.CONFIG;
        } catch (JournalCorruptException e) {
            err.println("gpu-agent: " + e.getMessage());
            return ExitCodes.CONFIG;
        } catch (IOException e) {
            err.println("gpu-agent: cannot read the escrow store at " + store + ": " + e);
            return ExitCodes.CONFIG;
        }
        if (json) {
            printJson(out, view);
        } else {
            printTable(out, view);
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static void printTable(PrintWriter out, EscrowStore.View v) {
        out.printf("%-7s %-9s %-16s %-8s %24s  %-66s %6s %9s  %s%n", "CLAIM", "STATE", "REASON", "RENTALS", "AMOUNT",
                "TX", "NONCE", "BLOCK", "UPDATED");
        for (ClaimView c : v.claims()) {
            out.printf("%-7s %-9s %-16s %-8s %24s  %-66s %6s %9s  %s%n", c.id(), c.state(), c.reason(),
                    c.rentals().size() + (c.close() ? " close" : ""), c.amount(), c.txHash().isEmpty() ? "-" : c.txHash(),
                    c.nonce() < 0 ? "-" : Long.toString(c.nonce()), c.blockNumber() < 0 ? "-" : Long.toString(c.blockNumber()),
                    c.updated());
            if (!c.detail().isEmpty()) {
                out.println("        " + c.detail());
            }
        }
        out.println();
        out.printf("%-66s %-14s %24s %24s  %s%n", "RENTAL", "SESSION", "EARNED", "CLAIMED", "STATUS");
        BigInteger earned = BigInteger.ZERO;
        BigInteger claimed = BigInteger.ZERO;
        for (RentalBook b : v.rentals()) {
            earned = earned.add(b.earned());
            claimed = claimed.add(b.claimed());
            String status = b.closed() ? "closed" : b.ended() ? "ended, final claim due" : "running";
            if (b.gaveUpAt() != null) {
                status += "; not claimable: " + b.note();
            }
            out.printf("%-66s %-14s %24s %24s  %s%n", b.rentalId(), b.sessionId(), b.earned(), b.claimed(), status);
        }
        out.printf("%d claims, %d rentals; earned %s, claimed %s (token base units)%n", v.claims().size(), v.rentals().size(),
                earned, claimed);
    }

    private static void printJson(PrintWriter out, EscrowStore.View v) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ArrayNode claims = root.putArray("claims");
        for (ClaimView c : v.claims()) {
            ObjectNode n = claims.addObject().put("id", c.id()).put("state", c.state().name()).put("reason", c.reason())
                    .put("amount", c.amount().toString()).put("close", c.close()).put("txHash", c.txHash())
                    .put("nonce", c.nonce()).put("block", c.blockNumber()).put("gasCostWei", c.gasCostWei().toString())
                    .put("detail", c.detail()).put("created", c.created().toString()).put("updated", c.updated().toString());
            c.rentals().forEach(n.putArray("rentals")::add);
        }
        ArrayNode rentals = root.putArray("rentals");
        for (RentalBook b : v.rentals()) {
            rentals.addObject().put("rentalId", b.rentalId()).put("sessionId", b.sessionId()).put("ended", b.ended())
                    .put("billedSeconds", b.billedSeconds()).put("paidSeconds", b.paidSeconds())
                    .put("earned", b.earned().toString()).put("claimed", b.claimed().toString()).put("closed", b.closed())
                    .put("closeDeadline", b.closeDeadline()).put("note", b.note());
        }
        root.put("eventCursor", v.cursor());
        out.println(root.toPrettyString());
    }
}
