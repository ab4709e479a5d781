/**
 * The agent's log output: journald's priority prefix under systemd, timestamped lines otherwise,
 * always on stderr. The only importer of logback (see {@link io.gpuagent.daemon.logging.LogSetup}
 * for why it sits with the daemon).
 */
package io.gpuagent.daemon.logging;
