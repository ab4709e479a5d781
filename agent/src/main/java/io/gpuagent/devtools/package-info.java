/**
 * Development tools that ship in the agent's jar but are no part of the running agent: the demo
 * ({@code gpu-agent demo}, with the renter's and marketplace's side of the escrow on a local
 * chain), the scheduler player ({@code gpu-agent scheduler}), and {@code gpu-agent tls init} with
 * its development CA. They may use any package; no other package imports them (ArchitectureTest
 * holds it). The command line finds their commands at run time, through
 * {@code META-INF/services/io.gpuagent.cli.CommandPlugin} ({@link io.gpuagent.devtools.DevtoolsCommands}).
 */
package io.gpuagent.devtools;
