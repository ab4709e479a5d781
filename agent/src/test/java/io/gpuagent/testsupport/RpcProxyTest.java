package io.gpuagent.testsupport;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Hash;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The knobs of the RPC proxy that EscrowChainIT puts between the agent and the node, against a
 * stand-in node in this JVM: it forwards, a cut fails every call and a restore serves again on the
 * same port (which it never lets go), and dropped sends answer the hash without forwarding.
 */
class RpcProxyTest {
    private static final String RAW_TX = "0x02f86a8205398001843b9aca00";

    private final AtomicInteger forwarded = new AtomicInteger();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private HttpServer node;
    private RpcProxy proxy;

    @BeforeEach
    void start() throws IOException {
        node = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        node.createContext("/", ex -> {
            forwarded.incrementAndGet();
            byte[] body = ("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"node saw "
                    + ex.getRequestBody().readAllBytes().length + " bytes\"}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        node.start();
        proxy = new RpcProxy("http://127.0.0.1:" + node.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        proxy.close();
        node.stop(0);
    }

    private HttpResponse<String> call(String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(proxy.url())).timeout(Duration.ofSeconds(10))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void forwardsThenFailsEveryCallWhileCutThenServesAgainOnTheSamePort() throws Exception {
        String chainId = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}";
        HttpResponse<String> r = call(chainId);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("node saw " + chainId.length() + " bytes");
        String url = proxy.url();

        proxy.cut();
        assertThatThrownBy(() -> call(chainId)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> call(chainId)).as("every call, not only the first").isInstanceOf(IOException.class);
        assertThat(forwarded).hasValue(1);

        proxy.restore();
        assertThat(proxy.url()).isEqualTo(url);
        assertThat(call(chainId).body()).contains("node saw");
        assertThat(forwarded).hasValue(2);
    }

    @Test
    void aDroppedSendIsAnsweredWithItsHashAndNeverForwarded() throws Exception {
        String send = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_sendRawTransaction\",\"params\":[\"" + RAW_TX + "\"]}";
        proxy.dropSends(1);
        HttpResponse<String> r = call(send);
        assertThat(r.body()).isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"" + Hash.sha3(RAW_TX) + "\"}");
        assertThat(proxy.dropped()).isEqualTo(1);
        assertThat(forwarded).hasValue(0);
        assertThat(call(send).body()).as("only the next one").contains("node saw");
        assertThat(forwarded).hasValue(1);
    }
}
