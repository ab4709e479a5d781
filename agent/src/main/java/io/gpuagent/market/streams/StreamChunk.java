package io.gpuagent.market.streams;

import io.netty.buffer.ByteBuf;

/**
 * Bytes a stream's far end produced, tagged with the frame kind they go out in
 * ({@link StreamFrame#DATA} or {@link StreamFrame#STDERR}). A far end's pipeline may also pass a
 * plain {@link ByteBuf}, which is DATA.
 */
public record StreamChunk(int kind, ByteBuf data) {
}
