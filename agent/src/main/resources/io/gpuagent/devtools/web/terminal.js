// The reference web terminal's page (docs/web-terminal.md): xterm.js over a WebSocket to the gateway,
// which bridges it to an exec stream with a PTY in the session's container.
//   to the gateway:   binary frames = keystrokes (UTF-8), text = {"type":"resize","cols":C,"rows":R}
//   from the gateway: binary frames = terminal output, text = {"type":"opened"|"closed"|"error", ...}
// window.webTerminal exposes the live terminal for embedding pages and for the browser test.
(function () {
  'use strict';

  const host = document.getElementById('terminal');
  const statusEl = document.getElementById('status');
  const sessionEl = document.getElementById('session');
  const encoder = new TextEncoder();
  const state = { term: null, fit: null, socket: null, sent: null, stream: null, exitCode: null, reason: null };

  // relative to the page, so that a marketplace may mount the gateway under any path
  function socketUrl(path, params) {
    const url = new URL(path, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    Object.entries(params).forEach(([k, v]) => url.searchParams.set(k, String(v)));
    return url.toString();
  }

  function setStatus(name, text) {
    statusEl.dataset.state = name;
    statusEl.textContent = text || name;
  }

  function send(socket, data) {
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(data);
    }
  }

  function control(term, m) {
    if (m.type === 'opened') {
      state.stream = m.stream;
      sessionEl.textContent = 'session ' + m.session;
      setStatus('connected', 'connected');
    } else if (m.type === 'closed') {
      state.reason = m.reason;
      if (m.exitCode !== undefined) {
        state.exitCode = m.exitCode;
        term.write('\r\n\x1b[33m[exited with code ' + m.exitCode + ']\x1b[0m\r\n');
        setStatus('exited', 'exited with code ' + m.exitCode);
      } else {
        term.write('\r\n\x1b[33m[stream closed: ' + m.reason + (m.message ? ': ' + m.message : '') + ']\x1b[0m\r\n');
        setStatus('closed', 'closed: ' + m.reason);
      }
    } else if (m.type === 'error') {
      term.write('\r\n\x1b[31m[the agent refused the terminal: ' + m.message + ']\x1b[0m\r\n');
      setStatus('error', 'refused');
    }
  }

  function openTerminal() {
    if (state.socket) {
      state.socket.close();
    }
    if (state.term) {
      state.term.dispose();
    }
    Object.assign(state, { stream: null, exitCode: null, reason: null });
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: '"DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      scrollback: 5000,
      theme: { background: '#101418', foreground: '#d8dee4', cursor: '#7ee787' },
    });
    const fit = new FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(host);
    fit.fit();
    // the PTY starts at the size the page fits, so the first prompt is already drawn for it
    const socket = new WebSocket(socketUrl('ws/terminal', { cols: term.cols, rows: term.rows }));
    socket.binaryType = 'arraybuffer';
    Object.assign(state, { term, fit, socket, sent: { cols: term.cols, rows: term.rows } });
    setStatus('connecting');

    socket.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        control(term, JSON.parse(ev.data));
      } else {
        term.write(new Uint8Array(ev.data));
      }
    };
    socket.onclose = () => {
      if (state.socket === socket && state.reason === null && statusEl.dataset.state !== 'error') {
        term.write('\r\n\x1b[31m[connection to the gateway closed]\x1b[0m\r\n');
        setStatus('closed', 'disconnected');
      }
    };
    term.onData((d) => send(socket, encoder.encode(d)));
    // mouse reports in the old X10 encoding: bytes, not UTF-8
    term.onBinary((d) => send(socket, Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff)));
    term.onResize(({ cols, rows }) => {
      state.sent = { cols, rows };
      send(socket, JSON.stringify({ type: 'resize', cols, rows }));
    });
    term.focus();
  }

  // refit when the window or the pane beside the terminal changes size; xterm's onResize sends it on
  let pending = false;
  new ResizeObserver(() => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        if (state.fit) {
          state.fit.fit();
        }
      });
    }
  }).observe(host);

  // the container's output, in a side pane, while it is shown
  const logsPane = document.getElementById('logs-pane');
  const logsEl = document.getElementById('logs');
  const logsButton = document.getElementById('toggle-logs');
  let logsSocket = null;
  function toggleLogs() {
    const show = logsPane.hidden;
    logsPane.hidden = !show;
    logsButton.setAttribute('aria-pressed', String(show));
    if (!show) {
      if (logsSocket) {
        logsSocket.close();
        logsSocket = null;
      }
      return;
    }
    logsEl.textContent = '';
    const decoder = new TextDecoder('utf-8');
    logsSocket = new WebSocket(socketUrl('ws/logs', { tail: 200 }));
    logsSocket.binaryType = 'arraybuffer';
    logsSocket.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        const m = JSON.parse(ev.data);
        if (m.type === 'error' || m.type === 'closed') {
          logsEl.append('\n[' + (m.message || m.reason) + ']\n');
        }
        return;
      }
      const atEnd = logsEl.scrollTop + logsEl.clientHeight >= logsEl.scrollHeight - 4;
      logsEl.append(decoder.decode(new Uint8Array(ev.data), { stream: true }));
      if (atEnd) {
        logsEl.scrollTop = logsEl.scrollHeight;
      }
    };
  }

  document.getElementById('new-terminal').addEventListener('click', openTerminal);
  logsButton.addEventListener('click', toggleLogs);
  window.webTerminal = {
    get term() { return state.term; },
    get fit() { return state.fit; },
    /** The size last told to the gateway (the PTY's, once the agent acknowledged it). */
    get size() { return state.sent; },
    get exitCode() { return state.exitCode; },
    get status() { return statusEl.dataset.state; },
    newTerminal: openTerminal,
    toggleLogs,
  };
  openTerminal();
}());
