package io.gpuagent.metrics;

import org.junit.jupiter.api.Test;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pieces of {@link Exposition}; SharedFamiliesTest compares its whole output with client_java's. */
class ExpositionTest {
    private static GaugeSnapshot gauge(String name, double v) {
        return new GaugeSnapshot(new MetricMetadata(name, "help of " + name),
                List.of(new GaugeSnapshot.GaugeDataPointSnapshot(v, Labels.of("gpu", "0"), null)));
    }

    private static String assembled(Exposition exposition, ExpositionFormatWriter writer, List<MetricSnapshot> fresh,
                                    List<SharedFamilies.Entry<?>> shared) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        exposition.write(writer, out, fresh, shared);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String inOneCall(ExpositionFormatWriter writer, List<MetricSnapshot> all) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writer.write(out, new MetricSnapshots(all), EscapingScheme.ALLOW_UTF8);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void freshFamiliesBeforeBetweenAndAfterSharedGroupsGiveTheWritersBytes() throws Exception {
        ExpositionFormatWriter text = PrometheusTextFormatWriter.create();
        ExpositionFormatWriter om = OpenMetricsTextFormatWriter.create();
        Exposition exposition = new Exposition(List.of(text, om));
        SharedFamilies<String> b = new SharedFamilies<>(2, view -> "k",
                k -> MetricSnapshots.of(gauge("b_one", 1), gauge("b_two", 2)));
        SharedFamilies<String> d = new SharedFamilies<>(2, view -> "k", k -> MetricSnapshots.of(gauge("d", 5)));
        List<SharedFamilies.Entry<?>> shared = List.of(b.get("k"), d.get("k"));
        for (List<MetricSnapshot> fresh : List.of(List.<MetricSnapshot>of(gauge("a", 0), gauge("c", 3), gauge("e", 6)),
                List.<MetricSnapshot>of(gauge("c", 3)), List.<MetricSnapshot>of(),
                // sorts into the middle of a group: written in one call, same bytes
                List.<MetricSnapshot>of(gauge("b_three", 4)))) {
            List<MetricSnapshot> all = new ArrayList<>(fresh);
            for (SharedFamilies.Entry<?> e : shared) {
                all.addAll(e.families.stream().toList());
            }
            for (ExpositionFormatWriter w : List.of(text, om)) {
                assertThat(assembled(exposition, w, fresh, shared)).as("%s with %s", w.getContentType(), fresh)
                        .isEqualTo(inOneCall(w, all));
            }
        }
        assertThat(b.builds()).isEqualTo(1);
    }

    @Test
    void theTrailerIsHeldBackHoweverTheWriterChunksItsOutput() throws Exception {
        byte[] trailer = "# EOF\n".getBytes(StandardCharsets.UTF_8);
        byte[] body = "a 1\nb 2\n# EOF\n".getBytes(StandardCharsets.UTF_8);
        for (int chunk = 1; chunk <= body.length; chunk++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Exposition.WithoutTrailer s = new Exposition.WithoutTrailer(out, trailer);
            for (int i = 0; i < body.length; i += chunk) {
                s.write(body, i, Math.min(chunk, body.length - i));
            }
            s.finish();
            assertThat(out.toString(StandardCharsets.UTF_8)).as("chunks of %d", chunk).isEqualTo("a 1\nb 2\n");
        }
        Exposition.WithoutTrailer other = new Exposition.WithoutTrailer(new ByteArrayOutputStream(), trailer);
        other.write("a 1\n".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(other::finish).isInstanceOf(IllegalStateException.class);
    }
}
