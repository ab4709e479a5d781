/**
 * The reference web terminal's gateway (docs/web-terminal.md): a Netty HTTP and WebSocket server
 * that serves xterm.js and bridges a browser's terminal, log view and tunnelled HTTP requests to
 * one session's {@code exec}, {@code logs} and {@code tunnel} streams through a
 * {@link io.gpuagent.market.client.SchedulerConnection}. {@code gpu-agent web-terminal}
 * ({@code io.gpuagent.devtools.WebTerminalCommand}) starts it.
 */
package io.gpuagent.devtools.web;
