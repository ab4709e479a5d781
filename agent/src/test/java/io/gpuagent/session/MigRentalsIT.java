package io.gpuagent.session;

import io.gpuagent.container.docker.DockerContainerRuntimeIT;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.protocol.Message;
import io.gpuagent.testsupport.RunningAgent;
import io.gpuagent.testsupport.TestDocker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Issue 12's whole story on a simulated HGX H100 (server-8x-h100-mig: NVSwitch, GPU 0 and 1 in MIG
 * mode) with the real test engine in GPU attach mode {@code nvidia} (its stand-in NVIDIA hook writes
 * what a container was given into /.nvidia-sim-devices): the owner's layout is made at start; one
 * renter holds a 1g slice and another a 3g slice of the same GPU, a third an NVLinked pair of two
 * other GPUs; every container sees exactly its own units although its image bakes
 * {@code NVIDIA_VISIBLE_DEVICES=all}; prices, health and metrics are per unit; an image needing a
 * newer CUDA than the driver's is refused before a container exists.
 */
class MigRentalsIT {
    private static final Duration T = Duration.ofSeconds(30);
    private static final String RENTAL = "0x" + "ab".repeat(32);

    @TempDir
    Path dir;

    private TestDocker docker;

    @AfterEach
    void removeImages() throws Exception {
        docker.close();
    }

    private static Message.Launch launch(String session, String image, Integer gpus, String migProfile, String topology,
                                         String price) {
        return new Message.Launch(session, RENTAL, "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2", gpus, null, image,
                List.of("sh", "-c", "cat /.nvidia-sim-devices; sleep 300"), null, null, null, price, 3600L, migProfile,
                topology);
    }

    @Test
    void slicesOfOneGpuAndAnNvlinkedPairAreRentedEachSeeingOnlyItsOwnUnits() throws Exception {
        Path socket = DockerContainerRuntimeIT.socketFromEnvironment();
        docker = new TestDocker(socket);
        String baked = docker.imageWith("gpu-agent-test/mig-rentals", "baked", "NVIDIA_VISIBLE_DEVICES=all");
        String newCuda = docker.imageWith("gpu-agent-test/mig-rentals", "cuda128", "NVIDIA_REQUIRE_CUDA=cuda>=12.8");
        try (RunningAgent agent = new RunningAgent(dir.resolve("agent"), "server-8x-h100-mig.conf",
                "sessions.enabled=true", "docker.socket=" + socket, "sessions.gpu_attach=nvidia",
                "sessions.cpus_per_gpu=1", "sessions.memory_per_gpu_mb=1024", "sessions.disk_per_gpu_gb=1",
                "sessions.stop_grace_ms=1000", "market.listen=127.0.0.1:0", "market.plaintext=true",
                "gpu.mig_layouts=0=3g.40gb 1g.10gb 1g.10gb");
             SchedulerClient client = new SchedulerClient(null);
             SchedulerConnection c = client.connect(agent.marketAddress())) {
            List<Message> events = new CopyOnWriteArrayList<>();
            c.onEvent(events::add);
            c.call(new Message.Hello(List.of(1), "it", "0123456789abcdef0123456789abcdef", List.of()), Message.Welcome.class, T);
            assertThat(agent.log()).contains("GPU 0: MIG layout applied");

            // the offer: GPU 0 and 1 by their instances, 2..7 whole, one NVSwitch group
            Message.Offer offer = c.call(new Message.GetOffer(), Message.Offer.class, T);
            assertThat(offer.units()).filteredOn(u -> u.gpuIndex() == 0).extracting(Message.OfferUnit::profile)
                    .containsExactlyInAnyOrder("3g.40gb", "1g.10gb", "1g.10gb");
            assertThat(offer.units()).filteredOn(u -> u.gpuIndex() == 1).extracting(Message.OfferUnit::profile)
                    .containsExactlyInAnyOrder("3g.40gb", "1g.10gb");
            assertThat(offer.units()).filteredOn(u -> u.kind().equals("gpu")).extracting(Message.OfferUnit::gpuIndex)
                    .containsExactly(2, 3, 4, 5, 6, 7);
            assertThat(offer.gpus().get(0).free()).as("a MIG GPU is never rented whole").isFalse();
            assertThat(offer.nvlinkGroups()).containsExactly(List.of(0, 1, 2, 3, 4, 5, 6, 7));
            assertThat(offer.units()).allMatch(Message.OfferUnit::free);
            String threeG = price(offer, "3g.40gb"); // ceil(611 * 3 / 7) = 262
            assertThat(threeG).isEqualTo("262");

            // prices are per unit: a 3g slice below its price is refused and nothing starts
            assertThatThrownBy(() -> c.call(launch("s-cheap", baked, null, "3g.40gb", null, "261"), Message.SessionReply.class, T))
                    .hasMessageStartingWith("price_below_offer");
            Message.Launch whole = new Message.Launch("s-whole", RENTAL, "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2", null,
                    List.of(offer.gpus().get(0).uuid()), baked, List.of("true"), null, null, null, "611", 3600L);
            assertThatThrownBy(() -> c.call(whole, Message.SessionReply.class, T)).hasMessageStartingWith("gpu_mig_enabled");
            assertThatThrownBy(() -> c.call(launch("s-none", baked, null, "2g.20gb", null, "999"), Message.SessionReply.class, T))
                    .hasMessageStartingWith("mig_profile_unknown").hasMessageContaining("1g.10gb, 3g.40gb");
            assertThat(c.call(new Message.ListSessions(), Message.Sessions.class, T).sessions()).as("nothing started").isEmpty();

            Message.SessionInfo a = c.call(launch("s-small", baked, null, "1g.10gb", null, "88"), Message.SessionReply.class, T).session();
            Message.SessionInfo b = c.call(launch("s-big", baked, null, "3g.40gb", null, threeG), Message.SessionReply.class, T).session();
            Message.SessionInfo pair = c.call(launch("s-pair", baked, 2, null, "nvlink", "1222"), Message.SessionReply.class, T).session();
            String uA = a.gpus().get(0);
            String uB = b.gpus().get(0);
            assertThat(uA).startsWith("MIG-");
            assertThat(uB).startsWith("MIG-");
            assertThat(unit(offer, uA).gpuIndex()).isEqualTo(unit(offer, uB).gpuIndex()).as("both slices on one GPU");
            assertThat(pair.gpus()).hasSize(2).allMatch(u -> u.startsWith("GPU-"));
            assertThat(pair.gpus()).extracting(u -> unit(offer, u).gpuIndex())
                    .as("two whole GPUs under one PCIe switch, NVSwitch-linked").containsExactly(2, 3);
            for (String s : List.of("s-small", "s-big", "s-pair")) {
                awaitEvent(events, Message.SessionState.class, e -> e.session().session().equals(s)
                        && e.session().state().equals("running"));
            }

            // each container was handed exactly its own units, the image's NVIDIA_VISIBLE_DEVICES=all notwithstanding
            assertThat(seen("s-small")).containsExactly(uA);
            assertThat(seen("s-big")).containsExactly(uB);
            assertThat(seen("s-pair")).containsExactlyElementsOf(pair.gpus());

            Message.Offer busy = c.call(new Message.GetOffer(), Message.Offer.class, T);
            assertThat(busy.units()).filteredOn(u -> !u.free()).extracting(Message.OfferUnit::id)
                    .containsExactlyInAnyOrder(uA, uB, pair.gpus().get(0), pair.gpus().get(1));

            // metrics per unit: each MIG instance with dcgm-exporter's labels
            String metrics = agent.get("/metrics").body();
            assertThat(metrics).contains("GPU_I_PROFILE=\"3g.40gb\"").contains("GPU_I_PROFILE=\"1g.10gb\"")
                    .contains("GPU_I_ID=\"" + unit(offer, uA).gpuInstanceId() + "\"");

            // an XID scoped to the 1g instance ends only its renter's session
            agent.inject("xid 0 79 gi " + unit(offer, uA).gpuInstanceId());
            Message.SessionEnded endA = awaitEvent(events, Message.SessionEnded.class,
                    e -> e.session().session().equals("s-small"));
            assertThat(endA.session().endReason()).isEqualTo("gpu_failed");
            assertThat(endA.session().reason()).contains(uA);
            Thread.sleep(1500);
            assertThat(events).filteredOn(Message.SessionEnded.class::isInstance).map(Message.SessionEnded.class::cast)
                    .extracting(e -> e.session().session()).containsExactly("s-small");
            Message.Offer afterXid = c.call(new Message.GetOffer(), Message.Offer.class, T);
            assertThat(unit(afterXid, uA).health()).isEqualTo("unhealthy");
            assertThat(unit(afterXid, uB).health()).isEqualTo("healthy");
            assertThat(agent.get("/metrics").body()).as("the instance's own health in the metrics")
                    .containsPattern("gpu_agent_mig_instance_health_state\\{[^}]*mig_uuid=\"" + uA + "\",state=\"UNHEALTHY\"} 1.0")
                    .containsPattern("gpu_agent_mig_instance_health_state\\{[^}]*mig_uuid=\"" + uB + "\",state=\"HEALTHY\"} 1.0");

            // a device-wide XID on GPU 0 ends the 3g renter too; the pair on GPUs 2 and 3 runs on
            agent.inject("xid 0 79");
            awaitEvent(events, Message.SessionEnded.class, e -> e.session().session().equals("s-big"));
            Thread.sleep(1500);
            assertThat(events).filteredOn(Message.SessionEnded.class::isInstance).map(Message.SessionEnded.class::cast)
                    .extracting(e -> e.session().session()).containsExactlyInAnyOrder("s-small", "s-big");

            // an image that needs CUDA 12.8 on this 12.4 driver is refused before any container exists
            c.call(launch("s-newcuda", newCuda, null, "1g.10gb", null, "88"), Message.SessionReply.class, T);
            Message.SessionEnded refused = awaitEvent(events, Message.SessionEnded.class,
                    e -> e.session().session().equals("s-newcuda"));
            assertThat(refused.session().state()).isEqualTo("failed");
            assertThat(refused.session().endReason()).isEqualTo("image_cuda_unsupported");
            assertThat(refused.session().reason()).contains("12.8").contains("12.4");
            assertThat(docker("ps", "-a", "--filter", "name=gpu-agent-s-newcuda", "--format", "{{.Names}}")).isBlank();

            Message.SessionInfo stopped = c.call(new Message.Stop("s-pair", null), Message.SessionReply.class, T).session();
            Message.SessionEnded endPair = awaitEvent(events, Message.SessionEnded.class,
                    e -> e.session().session().equals("s-pair"));
            assertThat(stopped.session()).isEqualTo("s-pair");
            assertThat(endPair.session().billedSeconds()).isPositive();
            assertThat(endA.session().billedSeconds()).isPositive();
        } finally {
            for (String s : List.of("s-small", "s-big", "s-pair", "s-newcuda")) {
                docker.quiet("rm", "-f", "gpu-agent-" + s);
            }
        }
    }

    @Test
    void aRentedSliceSurvivesAnAgentRestartAndStaysTheRentersAlone() throws Exception {
        Path socket = DockerContainerRuntimeIT.socketFromEnvironment();
        docker = new TestDocker(socket);
        String[] sets = {"sessions.enabled=true", "docker.socket=" + socket, "sessions.gpu_attach=nvidia",
                "sessions.cpus_per_gpu=1", "sessions.memory_per_gpu_mb=1024", "sessions.disk_per_gpu_gb=1",
                "sessions.stop_grace_ms=1000", "market.listen=127.0.0.1:0", "market.plaintext=true"};
        String slice;
        try {
            try (RunningAgent agent = new RunningAgent(dir.resolve("agent"), "server-8x-h100-mig.conf", sets);
                 SchedulerClient client = new SchedulerClient(null);
                 SchedulerConnection c = client.connect(agent.marketAddress())) {
                List<Message> events = new CopyOnWriteArrayList<>();
                c.onEvent(events::add);
                c.call(new Message.Hello(List.of(1), "it", "0123456789abcdef0123456789abcdef", List.of()), Message.Welcome.class, T);
                // GPU 1's 3g.40gb instance comes from the machine file, so it exists again after the restart
                slice = c.call(new Message.GetOffer(), Message.Offer.class, T).units().stream()
                        .filter(u -> u.gpuIndex() == 1 && "3g.40gb".equals(u.profile())).findFirst().orElseThrow().id();
                Message.Launch l = new Message.Launch("s-keep", RENTAL, "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2", null,
                        List.of(slice), SessionsOnDockerIT.IMAGE, List.of("sleep", "300"), null, null, null, "262", 3600L);
                c.call(l, Message.SessionReply.class, T);
                awaitEvent(events, Message.SessionState.class, e -> e.session().state().equals("running"));
            } // SIGTERM: the agent drains, the renter's container keeps running
            assertThat(seen("s-keep")).containsExactly(slice);
            try (RunningAgent agent = new RunningAgent(dir.resolve("agent"), "server-8x-h100-mig.conf", sets);
                 SchedulerClient client = new SchedulerClient(null);
                 SchedulerConnection c = client.connect(agent.marketAddress())) {
                assertThat(agent.log()).contains("adopted [s-keep]");
                c.call(new Message.Hello(List.of(1), "it", "0123456789abcdef0123456789abcdef", List.of()), Message.Welcome.class, T);
                Message.Offer o = c.call(new Message.GetOffer(), Message.Offer.class, T);
                assertThat(unit(o, slice).free()).as("the adopted slice is still the renter's").isFalse();
                Message.SessionInfo s = c.call(new Message.Status("s-keep"), Message.SessionReply.class, T).session();
                assertThat(s.state()).isEqualTo("running");
                assertThat(s.gpus()).containsExactly(slice);
                // nobody else can take it
                Message.Launch other = new Message.Launch("s-other", RENTAL, "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2",
                        null, List.of(slice), SessionsOnDockerIT.IMAGE, List.of("sleep", "300"), null, null, null, "262", 3600L);
                assertThatThrownBy(() -> c.call(other, Message.SessionReply.class, T)).hasMessageStartingWith("gpu_busy");
                c.call(new Message.Stop("s-keep", null), Message.SessionReply.class, T);
                await().atMost(T).until(() -> unit(c.call(new Message.GetOffer(), Message.Offer.class, T), slice).free());
            }
        } finally {
            docker.quiet("rm", "-f", "gpu-agent-s-keep");
            docker.quiet("rm", "-f", "gpu-agent-s-other");
        }
    }

    private static String price(Message.Offer o, String profile) {
        return o.units().stream().filter(u -> profile.equals(u.profile())).findFirst().orElseThrow().pricePerSecond();
    }

    private static Message.OfferUnit unit(Message.Offer o, String id) {
        return o.units().stream().filter(u -> u.id().equals(id)).findFirst().orElseThrow();
    }

    /** What the stand-in NVIDIA hook handed the container (one device per line). */
    private List<String> seen(String session) throws Exception {
        String out = docker("exec", "gpu-agent-" + session, "cat", "/.nvidia-sim-devices");
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    private static <T extends Message> T awaitEvent(List<Message> events, Class<T> type, Predicate<T> p) {
        return await().atMost(T).pollInterval(Duration.ofMillis(200)).until(() ->
                events.stream().filter(type::isInstance).map(type::cast).filter(p).reduce((x, y) -> y).orElse(null),
                java.util.Objects::nonNull);
    }

    private String docker(String... args) throws Exception {
        return docker.run(args);
    }
}
