package io.gpuagent.container.docker;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ImageReferenceTest {
    @Test
    void tagsDigestsAndRegistryPortsAreSplitAsThePullApiWants() {
        assertThat(ImageReference.parse("nvidia/cuda:12.4.1-runtime-ubuntu22.04"))
                .isEqualTo(new ImageReference("nvidia/cuda", "12.4.1-runtime-ubuntu22.04"));
        assertThat(ImageReference.parse("ubuntu")).as("no tag: latest, never every tag").isEqualTo(new ImageReference("ubuntu", "latest"));
        assertThat(ImageReference.parse("registry.local:5000/team/img")).isEqualTo(new ImageReference("registry.local:5000/team/img", "latest"));
        assertThat(ImageReference.parse("registry.local:5000/team/img:v2")).isEqualTo(new ImageReference("registry.local:5000/team/img", "v2"));
        assertThat(ImageReference.parse("img@sha256:abcd")).isEqualTo(new ImageReference("img", "sha256:abcd"));
    }
}
