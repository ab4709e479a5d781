// The reference web terminal in a real browser: Debian's chromium, headless, driven by playwright-core
// (no browser of its own). WebTerminalIT starts the agent, a session and the gateway, then runs this.
//   WEB_TERMINAL_URL  the gateway's page, e.g. http://127.0.0.1:8088/
//   CHROMIUM          the browser to drive (default /usr/bin/chromium)
//   SCREENSHOT        where to save a picture of the terminal
//   TUNNEL_PORT, TUNNEL_TEXT   the container's web server and the text its index.html holds
//   LOG_LINE          a line the container wrote to its stdout
// Each check prints "ok: ..."; the first that fails throws, and the script exits 1.
import { chromium } from 'playwright-core';

const url = process.env.WEB_TERMINAL_URL;
const port = process.env.TUNNEL_PORT;
const text = process.env.TUNNEL_TEXT;
const logLine = process.env.LOG_LINE;
if (!url || !port || !text || !logLine || !process.env.SCREENSHOT) {
  throw new Error('set WEB_TERMINAL_URL, TUNNEL_PORT, TUNNEL_TEXT, LOG_LINE and SCREENSHOT');
}
const T = 30_000;

function ok(what) {
  console.log('ok: ' + what);
}

// the terminal's buffer as text lines (xterm's own API, not the rendered DOM)
async function lines(page) {
  return page.evaluate(() => {
    const b = window.webTerminal.term.buffer.active;
    const out = [];
    for (let i = 0; i < b.length; i++) {
      out.push(b.getLine(i).translateToString(true));
    }
    return out;
  });
}

async function waitForLine(page, test, what) {
  const deadline = Date.now() + T;
  for (;;) {
    const found = (await lines(page)).find(test);
    if (found !== undefined) {
      return found;
    }
    if (Date.now() > deadline) {
      throw new Error('no line ' + what + ' within ' + T + ' ms; the terminal shows:\n' + (await lines(page)).join('\n'));
    }
    await page.waitForTimeout(100);
  }
}

async function newTerminal(page) {
  await page.click('#new-terminal');
  await page.waitForFunction(() => window.webTerminal.status === 'connected', null, { timeout: T });
  await waitForLine(page, (l) => /[#$] ?$/.test(l.trimEnd()), 'with a shell prompt');
}

async function type(page, line) {
  await page.click('#terminal');
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

// `stty size` in the shell equals the size xterm has after the page's fit, which the page sent
async function sttyFollows(page, label) {
  const size = await page.evaluate(() => ({ cols: window.webTerminal.term.cols, rows: window.webTerminal.term.rows,
    sent: window.webTerminal.size, proposed: window.webTerminal.fit.proposeDimensions() }));
  if (size.sent.cols !== size.cols || size.sent.rows !== size.rows) {
    throw new Error(label + ': the page sent ' + JSON.stringify(size.sent) + ' but xterm is ' + size.cols + 'x' + size.rows);
  }
  if (size.proposed.cols !== size.cols || size.proposed.rows !== size.rows) {
    throw new Error(label + ': fit proposes ' + JSON.stringify(size.proposed) + ' but xterm is ' + size.cols + 'x' + size.rows);
  }
  const marker = 'size-' + Math.random().toString(36).slice(2, 8);
  await type(page, 'echo ' + marker + ' $(stty size)');
  const line = await waitForLine(page, (l) => l.startsWith(marker + ' '), marker);
  const [rows, cols] = line.slice(marker.length + 1).trim().split(' ').map(Number);
  if (rows !== size.rows || cols !== size.cols) {
    throw new Error(label + ': stty size says ' + rows + ' rows ' + cols + ' cols, the page fit ' + size.rows + 'x' + size.cols);
  }
  ok(label + ': stty size ' + rows + ' ' + cols + ' = the page\'s fit');
  return { rows, cols };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // root in a container: chromium's sandbox needs user namespaces it may not have
  args: ['--no-sandbox'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('page error: ' + e.message));
  await page.goto(url);
  ok('chromium ' + browser.version() + ' loaded ' + url);
  await page.waitForFunction(() => window.webTerminal && window.webTerminal.status === 'connected', null, { timeout: T });
  await waitForLine(page, (l) => /[#$] ?$/.test(l.trimEnd()), 'with a shell prompt');
  ok('a login shell answered over the WebSocket');

  await type(page, 'echo hello; exit 3');
  await waitForLine(page, (l) => l.trim() === 'hello', '"hello"');
  await waitForLine(page, (l) => l.includes('[exited with code 3]'), '"[exited with code 3]"');
  const exit = await page.evaluate(() => window.webTerminal.exitCode);
  const status = await page.textContent('#status');
  if (exit !== 3 || status !== 'exited with code 3') {
    throw new Error('exit code ' + exit + ', status "' + status + '"');
  }
  ok('"hello" typed and echoed; the page shows [exited with code 3]');

  await newTerminal(page);
  const first = await sttyFollows(page, 'new terminal at 1280x720');
  await page.setViewportSize({ width: 900, height: 520 });
  await page.waitForFunction((f) => window.webTerminal.term.cols !== f.cols && window.webTerminal.term.rows !== f.rows,
    first, { timeout: T });
  const second = await sttyFollows(page, 'viewport resized to 900x520');
  if (second.cols >= first.cols || second.rows >= first.rows) {
    throw new Error('a smaller viewport gave ' + JSON.stringify(second) + ' after ' + JSON.stringify(first));
  }

  // the container's web server through /tunnel/PORT/, in a tab of its own and by fetch from the page
  const tab = await context.newPage();
  const res = await tab.goto(new URL('tunnel/' + port + '/index.html', url).toString());
  const body = (await tab.textContent('body')).trim();
  if (res.status() !== 200 || body !== text) {
    throw new Error('tunnel: HTTP ' + res.status() + ', body "' + body + '"');
  }
  const fetched = await page.evaluate((p) => fetch('tunnel/' + p + '/').then((r) => r.text()), port);
  if (fetched.trim() !== text) {
    throw new Error('tunnel by fetch: "' + fetched + '"');
  }
  await tab.close();
  ok('tunnel: /tunnel/' + port + '/index.html is "' + text + '" (a tab, and fetch from the page)');

  // the logs pane: the container's own output; the terminal narrows and its PTY follows
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.click('#toggle-logs');
  await page.waitForFunction((l) => document.getElementById('logs').textContent.includes(l), logLine, { timeout: T });
  ok('logs pane shows the container\'s "' + logLine + '"');
  await page.waitForTimeout(300); // the pane's layout settles and the fit runs
  await type(page, 'clear'); // a tidy screen for the picture; ash drops what is typed before its next prompt
  await page.waitForFunction(() => {
    const b = window.webTerminal.term.buffer.active;
    const shown = [];
    for (let i = b.viewportY; i < b.viewportY + window.webTerminal.term.rows; i++) {
      shown.push(b.getLine(i).translateToString(true).trim());
    }
    return !shown.some((l) => l.includes('size-') || l.includes('clear')) && shown.some((l) => /[#$]$/.test(l));
  }, null, { timeout: T });
  await sttyFollows(page, 'logs pane open');
  await type(page, 'wget -qO- http://127.0.0.1:' + port + '/');
  await waitForLine(page, (l) => l.trim() === text, 'the web server\'s page in the shell');
  await page.waitForTimeout(300);
  await page.screenshot({ path: process.env.SCREENSHOT });
  ok('screenshot in ' + process.env.SCREENSHOT);
  console.log('browser checks: all held');
} finally {
  await browser.close();
}
