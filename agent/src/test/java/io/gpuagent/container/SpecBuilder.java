package io.gpuagent.container;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds {@link ContainerSpec}s in tests: small, CPU-only, hardened defaults; change what a test needs. */
public final class SpecBuilder {
    private final String name;
    private String image;
    private List<String> command = List.of();
    private final Map<String, String> env = new LinkedHashMap<>();
    private final Map<String, String> labels = new LinkedHashMap<>();
    private GpuAttachMode gpuMode = GpuAttachMode.NONE;
    private List<String> gpuUuids = List.of();
    private long memoryBytes = 64L << 20;
    private long nanoCpus = 500_000_000L;
    private long pidsLimit = 64;
    private Long diskBytes;
    private List<String> capAdd = List.of();
    private List<String> securityOpts = List.of("no-new-privileges:true");
    private String network;
    private final List<ContainerSpec.PortBinding> ports = new ArrayList<>();
    private final List<ContainerSpec.ContainerFile> files = new ArrayList<>();
    private ContainerSpec.LogLimit log = new ContainerSpec.LogLimit(1L << 20, 2);

    public SpecBuilder(String name, String image, String network) {
        this.name = name;
        this.image = image;
        this.network = network;
    }

    public SpecBuilder image(String v) { image = v; return this; }
    public SpecBuilder command(List<String> v) { command = List.copyOf(v); return this; }
    public SpecBuilder command(String... v) { return command(List.of(v)); }
    public SpecBuilder env(String k, String v) { env.put(k, v); return this; }
    public SpecBuilder label(String k, String v) { labels.put(k, v); return this; }
    public SpecBuilder labels(Map<String, String> v) { labels.putAll(v); return this; }
    public SpecBuilder gpus(GpuAttachMode mode, String... uuids) { gpuMode = mode; gpuUuids = List.of(uuids); return this; }
    public SpecBuilder memoryBytes(long v) { memoryBytes = v; return this; }
    public SpecBuilder nanoCpus(long v) { nanoCpus = v; return this; }
    public SpecBuilder pidsLimit(long v) { pidsLimit = v; return this; }
    public SpecBuilder diskBytes(Long v) { diskBytes = v; return this; }
    public SpecBuilder capAdd(String... v) { capAdd = List.of(v); return this; }
    public SpecBuilder securityOpts(String... v) { securityOpts = List.of(v); return this; }
    public SpecBuilder network(String v) { network = v; return this; }
    public SpecBuilder port(int containerPort, String protocol, String hostIp, int hostPort) {
        ports.add(new ContainerSpec.PortBinding(containerPort, protocol, hostIp, hostPort));
        return this;
    }
    public SpecBuilder log(long maxFileBytes, int maxFiles) { log = new ContainerSpec.LogLimit(maxFileBytes, maxFiles); return this; }
    public SpecBuilder file(String path, byte[] content, int mode) {
        files.add(new ContainerSpec.ContainerFile(path, content, mode));
        return this;
    }

    public ContainerSpec build() {
        return new ContainerSpec(name, image, command, env, labels, gpuMode, gpuUuids, memoryBytes, nanoCpus,
                pidsLimit, diskBytes, capAdd, securityOpts, network, ports, files, log);
    }
}
