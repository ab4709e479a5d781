package io.gpuagent.market.netty;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Caps scheduler connections in total and per peer address. The first handler of every accepted
 * connection: a connection over a cap is closed before TLS costs anything, and the ones already
 * served are untouched.
 */
@ChannelHandler.Sharable
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {
    private final int maxTotal;
    private final int maxPerAddress;
    private final MarketStats stats;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentMap<InetAddress, AtomicInteger> perAddress = new ConcurrentHashMap<>();

    ConnectionLimiter(int maxTotal, int maxPerAddress, MarketStats stats) {
        this.maxTotal = maxTotal;
        this.maxPerAddress = maxPerAddress;
        this.stats = stats;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        InetAddress peer = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
        int n = total.incrementAndGet();
        int p = perAddress.computeIfAbsent(peer, a -> new AtomicInteger()).incrementAndGet();
        ctx.channel().closeFuture().addListener(f -> release(peer));
        if (n > maxTotal || p > maxPerAddress) {
            stats.rejected(n > maxTotal ? "max_connections" : "max_connections_per_address");
            ctx.close();
            return;
        }
        ctx.pipeline().remove(this);
        super.channelActive(ctx);
    }

    private void release(InetAddress peer) {
        total.decrementAndGet();
        perAddress.computeIfPresent(peer, (a, c) -> c.decrementAndGet() <= 0 ? null : c);
    }

    int open() {
        return total.get();
    }
}
