package io.gpuagent.container.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.DeviceRequest;
import io.gpuagent.container.ContainerState;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads the port's {@link ContainerState} from {@code GET /containers/{id}/json}. Times are the
 * engine's {@code State.StartedAt} / {@code State.FinishedAt} (RFC 3339 with nanoseconds, UTC);
 * Docker writes {@code 0001-01-01T00:00:00Z} for "never", which becomes null. GPUs come back from
 * {@code HostConfig.DeviceRequests}, so GPU allocation can be rebuilt after an agent restart. A
 * finish stamped before the start (a process that exits at once) is reported as the start.
 */
final class ContainerStateMapper {
    private static final int YEAR_OF_NEVER = 1;

    private ContainerStateMapper() {
    }

    static ContainerState from(InspectContainerResponse r) {
        InspectContainerResponse.ContainerState s = r.getState();
        String status = s == null || s.getStatus() == null ? "unknown" : s.getStatus();
        boolean live = status.equals("running") || status.equals("restarting") || status.equals("paused");
        boolean ended = status.equals("exited") || status.equals("dead");
        Instant startedAt = s == null ? null : engineTime(s.getStartedAt());
        Instant finishedAt = s == null || live ? null : engineTime(s.getFinishedAt());
        if (finishedAt != null && startedAt != null && finishedAt.isBefore(startedAt)) {
            // the engine stamps StartedAt when its start call completes and FinishedAt when the exit
            // event arrives; a process that ends at once can be stamped as finished a little before
            // it started (seen on 20.10: 0.3 ms). Billing never sees a negative run time.
            finishedAt = startedAt;
        }
        Integer exitCode = ended && s.getExitCodeLong() != null ? Integer.valueOf(s.getExitCodeLong().intValue()) : null;
        boolean oom = s != null && Boolean.TRUE.equals(s.getOOMKilled());
        Map<String, String> labels = r.getConfig() == null || r.getConfig().getLabels() == null
                ? Map.of() : r.getConfig().getLabels();
        String image = r.getConfig() == null ? r.getImageId() : r.getConfig().getImage();
        List<DeviceRequest> requests = r.getHostConfig() == null ? null : r.getHostConfig().getDeviceRequests();
        return new ContainerState(r.getId(), stripSlash(r.getName()), image, labels, status, startedAt, finishedAt,
                exitCode, oom, gpuUuids(requests));
    }

    /** An engine timestamp, or null for Docker's zero time and for absent values. */
    static Instant engineTime(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            OffsetDateTime t = OffsetDateTime.parse(text);
            return t.getYear() <= YEAR_OF_NEVER ? null : t.toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalStateException("engine sent an unreadable time: " + text, e);
        }
    }

    /** NVIDIA requests list UUIDs; CDI requests list {@code nvidia.com/gpu=<uuid>}. Others are not ours. */
    static List<String> gpuUuids(List<DeviceRequest> requests) {
        List<String> out = new ArrayList<>();
        if (requests == null) {
            return out;
        }
        for (DeviceRequest d : requests) {
            if (d.getDeviceIds() == null) {
                continue;
            }
            if ("nvidia".equals(d.getDriver())) {
                out.addAll(d.getDeviceIds());
            } else if ("cdi".equals(d.getDriver())) {
                for (String id : d.getDeviceIds()) {
                    if (id.startsWith(ContainerSpecMapper.CDI_GPU_PREFIX)) {
                        out.add(id.substring(ContainerSpecMapper.CDI_GPU_PREFIX.length()));
                    }
                }
            }
        }
        return out;
    }

    private static String stripSlash(String name) {
        return name != null && name.startsWith("/") ? name.substring(1) : name;
    }
}
