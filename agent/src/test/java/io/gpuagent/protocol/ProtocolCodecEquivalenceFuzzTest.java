package io.gpuagent.protocol;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The streaming envelope reader and the common-request binding against the reference tree reader
 * and databind, under a fuzzer (docs/fuzzing.md): whatever the payload, the same envelope, message
 * or error (code, id and message), the same tree text and node classes. In a plain build it replays
 * its committed inputs; {@code -Pfuzz -Dtest='ProtocolCodecEquivalenceFuzzTest#fastPathsAgree'}
 * fuzzes it. ProtocolCodecEquivalenceTest runs the same comparison over the decoders' fuzz corpus.
 */
class ProtocolCodecEquivalenceFuzzTest {
    @FuzzTest(maxDuration = "3m")
    @DictionaryFile(resourcePath = "/io/gpuagent/market/netty/protocol.dict")
    void fastPathsAgree(byte[] payload) throws Exception {
        ProtocolCodecEquivalenceTest.compare(payload);
    }
}
