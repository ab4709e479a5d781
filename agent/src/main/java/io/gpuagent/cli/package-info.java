/**
 * The {@code gpu-agent} command line: every command an owner types; {@link io.gpuagent.cli.Main}
 * is the jar's Main-Class. With the development tools, the only importer of picocli. The
 * development commands ({@code demo}, {@code scheduler}, {@code tls init}) are not imported: they
 * plug in at run time as {@link io.gpuagent.cli.CommandPlugin}s. It uses the daemon's wiring and
 * the rooms it reports on; the daemon never imports it.
 */
package io.gpuagent.cli;
