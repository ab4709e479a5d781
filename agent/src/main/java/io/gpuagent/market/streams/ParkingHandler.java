package io.gpuagent.market.streams;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;

/**
 * Holds what a far end's channel delivers between its opening and the relay's attaching (the
 * bytes behind an HTTP head, a tunnel's first bytes, an early close), with reads paused, and
 * replays it in order to the handler added behind it. Without it those bytes would reach the end
 * of the pipeline and be dropped.
 */
final class ParkingHandler extends ChannelInboundHandlerAdapter {
    private final List<Object> held = new ArrayList<>();
    private boolean inactive;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.channel().config().setAutoRead(false);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        held.add(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        held.add(new Event(evt));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inactive = true;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        held.add(new Failure(cause));
    }

    private record Event(Object evt) {
    }

    private record Failure(Throwable cause) {
    }

    /** Replays what was held to the handlers behind this one, then steps out of the pipeline. */
    void release(ChannelHandlerContext ctx) {
        for (Object o : held) {
            if (o instanceof Event e) {
                ctx.fireUserEventTriggered(e.evt());
            } else if (o instanceof Failure f) {
                ctx.fireExceptionCaught(f.cause());
            } else {
                ctx.fireChannelRead(o);
            }
        }
        held.clear();
        if (inactive) {
            ctx.fireChannelInactive();
        }
        ctx.pipeline().remove(this);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        held.forEach(ReferenceCountUtil::release);
        held.clear();
    }
}
