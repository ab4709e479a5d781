package io.gpuagent.market.tls;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads PEM text (RFC 7468): {@code -----BEGIN LABEL-----}, base64 of the DER bytes (in lines of
 * 64 when openssl writes them), {@code -----END LABEL-----}. Text outside the blocks (openssl's
 * "Bag Attributes", comments) is ignored, as openssl does.
 */
final class Pem {
    static final String CERTIFICATE = "CERTIFICATE";
    static final String PRIVATE_KEY = "PRIVATE KEY";

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

    /** One PEM block: its label and the DER bytes it carries. */
    record Block(String label, byte[] der) {
    }

    private Pem() {
    }

    /**
     * Every block in the text, in order.
     *
     * @throws IllegalArgumentException when a block's body is not base64
     */
    static List<Block> parse(String text) {
        List<Block> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String body = m.group(2).replaceAll("\\s", "");
            blocks.add(new Block(m.group(1), Base64.getDecoder().decode(body)));
        }
        return blocks;
    }
}
