package io.gpuagent.session;

import java.util.List;
import java.util.Map;

/**
 * What the scheduler asks for on behalf of a renter. Untrusted: {@link LaunchPolicy} checks every
 * field and decides the container; nothing here is applied as it stands.
 *
 * @param sessionId          the marketplace's session id; launches are idempotent by it
 * @param rentalId           the escrow rental paying for it
 * @param renter             the renter's address (for labels and the end report)
 * @param gpuCount           GPUs wanted (ignored when {@code gpuUuids} names them)
 * @param gpuUuids           exact GPUs wanted, or empty
 * @param ports              container ports to publish (host ports come from the owner's range)
 * @param sshPublicKey       an OpenSSH public key line installed as root's authorized_keys, or null
 * @param pricePerSecond     agreed price per second in token base units (decimal string)
 * @param maxDurationSeconds the session ends when this much time has run
 * @param migProfile         one MIG instance of this profile ({@code 1g.10gb}) instead of whole GPUs, or null
 * @param topology           how a multi-GPU set should be linked: {@code any}, {@code prefer} (null means
 *                           this), {@code nvlink} (refused when no NVLinked set is free)
 */
public record LaunchRequest(String sessionId, String rentalId, String renter, int gpuCount, List<String> gpuUuids,
                            String image, List<String> command, Map<String, String> env, List<Integer> ports,
                            String sshPublicKey, String pricePerSecond, long maxDurationSeconds,
                            // absent from journal records when unset: a record without them keeps the bytes
                            // of the agent before units (SessionJournalCompatibilityTest), for a downgrade
                            @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
                            String migProfile,
                            @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
                            String topology) {

    /** A request for whole GPUs with the default topology wish. */
    public LaunchRequest(String sessionId, String rentalId, String renter, int gpuCount, List<String> gpuUuids,
                         String image, List<String> command, Map<String, String> env, List<Integer> ports,
                         String sshPublicKey, String pricePerSecond, long maxDurationSeconds) {
        this(sessionId, rentalId, renter, gpuCount, gpuUuids, image, command, env, ports, sshPublicKey, pricePerSecond,
                maxDurationSeconds, null, null);
    }

    public LaunchRequest {
        gpuUuids = gpuUuids == null ? List.of() : List.copyOf(gpuUuids);
        command = command == null ? List.of() : List.copyOf(command);
        env = env == null ? Map.of() : Map.copyOf(env);
        ports = ports == null ? List.of() : List.copyOf(ports);
    }
}
