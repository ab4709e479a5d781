package io.gpuagent.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The launch fields that would ask for access to the host. Unknown body fields are ignored by
 * design (a newer peer may send more), so a launch carrying {@code "privileged": true} used to
 * be accepted and the field silently dropped: the renter got less than the scheduler asked for,
 * and nobody was told. These names are therefore known to the codec only to be refused with
 * {@code policy_host_access}, naming the field; the launch policy never grants any of them.
 *
 * <p>Names are matched without regard to case, {@code _} or {@code -}, so Docker's own spellings
 * ({@code CapAdd}, {@code NetworkMode}, {@code cap-add}) are caught as well as snake_case. A field
 * that asks for nothing ({@code null}, {@code false}, {@code ""}, {@code []}, {@code {}}) passes:
 * a scheduler that always sends {@code "privileged": false} is not refused.
 */
public final class HostAccessFields {
    /** The refused fields, as docs/protocol.md lists them (snake_case). */
    public static final List<String> NAMES = List.of("privileged", "host_config", "binds", "volumes", "volumes_from",
            "mounts", "devices", "device_requests", "device_cgroup_rules", "cap_add", "security_opt", "network_mode",
            "host_network", "pid_mode", "pid", "ipc_mode", "ipc", "uts_mode", "userns_mode", "cgroupns_mode",
            "cgroup_parent", "runtime");

    private static final Map<String, String> BY_KEY = NAMES.stream()
            .collect(Collectors.toUnmodifiableMap(HostAccessFields::key, n -> n));
    private static final Set<String> KEYS = BY_KEY.keySet();

    private HostAccessFields() {
    }

    /** Throws {@code policy_host_access} for the first field of {@code body} that asks for host access. */
    static void refuse(ObjectNode body) {
        if (body == null) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String k = key(f.getKey());
            if (KEYS.contains(k) && asks(f.getValue())) {
                throw new FieldException(ErrorCode.POLICY_HOST_ACCESS, f.getKey(), "asks for access to the host ("
                        + BY_KEY.get(k) + "), which no renter's container is given: renters' containers are never "
                        + "privileged and get no host mounts, namespaces, devices or extra capabilities; send the "
                        + "launch without it (docs/protocol.md, launch)");
            }
        }
    }

    private static boolean asks(JsonNode v) {
        if (v == null || v.isNull() || v.isBoolean() && !v.booleanValue()) {
            return false;
        }
        if (v.isTextual()) {
            return !v.textValue().isEmpty();
        }
        return !(v.isContainerNode() && v.isEmpty());
    }

    private static String key(String name) {
        return name.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
    }
}
