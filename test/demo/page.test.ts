/**
 * The browser page end to end: build it, serve the static files on 127.0.0.1, and drive
 * Debian's Chromium through playwright-core as a learner would: type a ping into the
 * terminal, watch the path's counters move, flood, download the capture.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { PcapReader } from '../../src/capture/pcap.js';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('../..', import.meta.url));
/** Where the screenshots go: LONET_SCREENSHOTS, or a folder under the system's tmp. */
const shots = process.env.LONET_SCREENSHOTS ?? join(tmpdir(), 'lonet-demo-screenshots');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

/** The plainest static file server: what "works from any static server" has to survive. */
function serve(dir: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

let outDir = '';
let server: Server | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  if (skip) return;
  outDir = await mkdtemp(join(tmpdir(), 'lonet-demo-'));
  await build({
    configFile: join(root, 'demo/vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  server = await serve(outDir);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  const { port } = server.address() as AddressInfo;
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.getByTestId('terminal').locator('.xterm-rows').waitFor();
  await mkdir(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

const count = async (stage: string) => Number(await page.getByTestId(`stage-${stage}`).getAttribute('data-count'));
const terminalText = async () => ((await page.getByTestId('terminal').textContent()) ?? '').replaceAll('\u00a0', ' ');

/** Runs a line through the page's window.lonet (a string, as this file has no DOM types). */
const pageExec = (line: string) =>
  page.evaluate<string>(`window.lonet.exec(${JSON.stringify(line)}).then((r) => r.stdout)`);

async function waitFor(cond: () => Promise<boolean>, timeout = 60_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${cond}`);
    await page.waitForTimeout(30);
  }
}

/**
 * Types a line into the terminal as a user would, then waits for `expect` on the screen.
 * Ctrl-L first, as a user clears a busy screen: what is on it is then this command's.
 */
async function typeLine(line: string, expect: RegExp, timeout = 120_000): Promise<void> {
  await page.getByTestId('terminal').click();
  await page.keyboard.press('Control+L');
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
  const deadline = Date.now() + timeout;
  while (!expect.test(await terminalText())) {
    if (Date.now() > deadline) assert.fail(`no ${expect} in the terminal after ${line}:\n${await terminalText()}`);
    await page.waitForTimeout(50);
  }
}

test("typing a ping in the terminal runs it on the page's lo; the path counts its four packets", { skip }, async () => {
  const before = await count('netif_rx');
  await typeLine('ping -c 2 -i 0.2 127.0.0.1', /2 packets transmitted, 2 received, 0% packet loss/);
  const text = await terminalText();
  assert.match(text, /PING 127\.0\.0\.1 \(127\.0\.0\.1\) 56\(84\) bytes of data\./);
  assert.match(text, /64 bytes from 127\.0\.0\.1: icmp_seq=2 ttl=64 time=/);
  // The diagram reads the stack once per frame: give it one.
  await waitFor(async () => (await count('netif_rx')) >= before + 4);
  assert.ok((await count('netif_rx')) - before >= 4, 'two requests and two replies crossed netif_rx');
  assert.equal(await count('qdisc'), 0, 'noqueue: nothing waits in a qdisc');
  for (const stage of ['dev_queue_xmit', 'loopback_xmit', 'backlog', 'netif_receive_skb', 'ip_rcv', 'deliver']) {
    assert.ok((await count(stage)) >= 4, `${stage} counted the ping`);
  }
  assert.equal(await count('drop_backlog'), 0);
  // window.lonet is the same namespace: its lo counted the same packets.
  const lo = await pageExec('cat /proc/net/dev');
  assert.match(lo, /^\s*lo:\s+336\s+4\s/m, '4 packets of 84 bytes on lo');
  await page.screenshot({ path: join(shots, 'demo-ping.png') });
  assert.ok((await readFile(join(shots, 'demo-ping.png'))).byteLength > 10_000);
});

test('clicking a stage explains it with the Linux function it stands for', { skip }, async () => {
  await page.getByTestId('stage-net_rx_action').click();
  const text = (await page.getByTestId('explain').textContent()) ?? '';
  assert.match(text, /net_rx_action\(\)/);
  assert.match(text, /time_squeeze/);
});

test(
  'a flood: ping -f, then a burst with the softirq held off overflows the backlog and counts drops',
  { skip },
  async () => {
    await typeLine('sysctl -w net.core.netdev_max_backlog=300', /net\.core\.netdev_max_backlog = 300/);
    // ping -f cannot overflow lo's backlog (each send drains it), even a short one.
    await typeLine('ping -f -c 2000 127.0.0.1', /2000 packets transmitted, 2000 received, 0% packet loss/);
    const dropped = (await pageExec('cat /proc/net/softnet_stat')).split('\n').map((l) => l.split(' ')[1]);
    assert.deepEqual(dropped, ['00000000', '00000000', undefined]);
    await page.getByTestId('burst').click();
    // 5000 frames, the backlog holds netdev_max_backlog + 1 = 301: 4699 dropped.
    await waitFor(async () => (await count('drop_backlog')) === 4699);
    const bar = (await page.getByTestId('backlog-cpu0').textContent()) ?? '';
    assert.match(bar, /peak 301 \/ 301/);
    const softnet = await pageExec('cat /proc/net/softnet_stat');
    assert.equal(Number.parseInt(softnet.split(' ')[1] as string, 16), 4699, 'softnet_stat dropped, CPU 0');
    await page.screenshot({ path: join(shots, 'demo-flood.png') });
  },
);

test('the capture downloads as a pcap file holding the pings', { skip }, async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-pcap').click()]);
  assert.equal(download.suggestedFilename(), 'lonet-lo.pcap');
  const bytes = new Uint8Array(await readFile((await download.path()) as string));
  const reader = PcapReader.open(bytes);
  assert.ok(reader instanceof PcapReader, String(reader));
  const records = [...reader];
  assert.equal(reader.error, undefined);
  // 4 + 4000 ICMP echo packets (once each, as libpcap shows lo) and the 301 burst frames queued.
  const icmp = records.filter((r) => r.data[12] === 0x08 && r.data[13] === 0x00 && r.data[23] === 1);
  assert.equal(icmp.length, 4004);
  assert.equal(records.filter((r) => r.data[12] === 0x88 && r.data[13] === 0xb5).length, 301);
  assert.deepEqual(pageErrors, []);
});

test('with tc netem on lo, the qdisc stage counts what waited there and its drops', { skip }, async () => {
  await typeLine(
    'tc qdisc add dev lo root netem delay 10ms && ping -c 2 -i 0.2 127.0.0.1',
    /2 packets transmitted, 2 received/,
  );
  // At least 20 ms (10 ms each way); a loaded machine may add any amount to that.
  assert.match(
    await terminalText(),
    /icmp_seq=1 ttl=64 time=(?:[2-9]\d(?:\.\d+)?|[1-9]\d{2,}) ms/,
    'a 10 ms delay each way',
  );
  await waitFor(async () => (await count('qdisc')) === 4);
  assert.match((await page.getByTestId('stage-qdisc').textContent()) ?? '', /netem, 0 queued/);
  await typeLine(
    'tc qdisc change dev lo root netem loss 100% && ping -c 2 -i 0.2 -W 1 127.0.0.1',
    /2 packets transmitted, 0 received/,
  );
  await waitFor(async () => (await count('drop_qdisc')) === 2);
  await typeLine('tc qdisc del dev lo root; echo deleted', /deleted/);
  await waitFor(async () => (await count('qdisc')) === 0);
  assert.match((await page.getByTestId('stage-qdisc').textContent()) ?? '', /noqueue/);
});

test('Ctrl-C interrupts a running ping, and the up arrow brings the line back', { skip }, async () => {
  await typeLine('ping -i 0.2 127.0.0.3', /icmp_seq=2 /);
  await page.keyboard.press('Control+C');
  const deadline = Date.now() + 60_000;
  while (!/\^C\s*--- 127\.0\.0\.3 ping statistics ---/.test(await terminalText())) {
    if (Date.now() > deadline) assert.fail(`no summary after ^C:\n${await terminalText()}`);
    await page.waitForTimeout(50);
  }
  await page.keyboard.press('ArrowUp');
  await page.waitForTimeout(100);
  assert.match(await terminalText(), /lonet# ping -i 0\.2 127\.0\.0\.3\s*$/);
  await page.keyboard.press('Control+U');
});

test(
  "curl in the terminal talks to the page's own web server on 127.0.0.1:8080, which ss shows listening",
  { skip },
  async () => {
    const before = await count('netif_receive_skb');
    await typeLine('curl -s http://127.0.0.1:8080/', /deliver\s+\d+\s*lonet#/);
    const text = await terminalText();
    assert.match(text, /Hello from the page's web server: ns\.net\.createServer\(\) on 127\.0\.0\.1:8080\./);
    // The server echoes the head curl sent, as it came out of the page's TCP.
    assert.match(text, /Request 1 on this connection, from 127\.0\.0\.1:\d+, as it arrived:/);
    assert.match(text, /GET \/ HTTP\/1\.1\s+Host: 127\.0\.0\.1:8080\s+User-Agent: curl\/7\.88\.1\s+Accept: \*\/\*/);
    // The counts it read when the request arrived: the handshake and the request had crossed lo.
    const served = Number(/netif_receive_skb\s+(\d+)/.exec(text)?.[1]);
    assert.ok(served >= before + 4 && served <= (await count('netif_receive_skb')), `${before} < ${served}`);
    await page.screenshot({ path: join(shots, 'demo-curl.png') });
    await typeLine('ss -tan', /LISTEN\s+0\s+511\s+\[::1\]:8080\s+\*:\*/);
    assert.match(await terminalText(), /LISTEN\s+0\s+511\s+127\.0\.0\.1:8080\s+0\.0\.0\.0:\*/);
    await typeLine('curl -i http://[::1]:8080/v6 -d x', /deliver\s+\d+\s*lonet#/);
    assert.match(
      await terminalText(),
      /HTTP\/1\.1 200 OK.*on ::1:8080\..*from ::1:\d+, as it arrived:\s+POST \/v6 HTTP\/1\.1.*Content-Length: 1/s,
    );
    assert.deepEqual(pageErrors, []);
  },
);

test('ns.net works in the page: an echo server and a client through window.lonet', { skip }, async () => {
  const result = await page.evaluate<{ reply: string; closed: boolean; remote: string }>(`(async () => {
    const net = window.lonet.net;
    const server = net.createServer((s) => {
      s.setEncoding('utf8');
      s.on('data', (d) => s.write(d.toUpperCase()));
      s.on('end', () => s.end());
    });
    await new Promise((r) => server.listen(7007, '127.0.0.1', r));
    const c = net.connect(7007, '127.0.0.1');
    let reply = '';
    c.setEncoding('utf8');
    c.on('data', (d) => { reply += d; });
    c.end('hello over lonet');
    const closed = await new Promise((r, j) => { c.on('close', (hadError) => r(!hadError)); c.on('error', j); });
    const remote = c.remoteAddress + ':' + c.remotePort;
    await new Promise((r) => server.close(r));
    return { reply, closed, remote };
  })()`);
  assert.deepEqual(result, { reply: 'HELLO OVER LONET', closed: true, remote: '127.0.0.1:7007' });
});

test(
  'TLS stays Node-only: in the page, ns.tls, ns.https and ns.http2 throw one ERR_NOT_SUPPORTED that says so',
  { skip },
  async () => {
    const errors = await page.evaluate<[string, string][]>(`(() => ['tls', 'https', 'http2'].map((face) => {
    try {
      void window.lonet[face];
      return [face, 'no error'];
    } catch (e) {
      return [face, e.code + ': ' + e.message];
    }
  }))()`);
    for (const [face, text] of errors) {
      assert.match(
        text,
        new RegExp(`^ERR_NOT_SUPPORTED: ns\\.${face} is Node-only: lonet's TLS is Node's own OpenSSL`),
      );
    }
  },
);

test(
  'the terminal makes a second namespace and a veth cable to it; a ping across lights the cable each way',
  { skip },
  async () => {
    // IPv6 off for the new devices, so that only the pings (no DAD or router solicitation) cross.
    await typeLine(
      'sysctl -qw net.ipv6.conf.default.disable_ipv6=1; ip netns add b; ip netns exec b sysctl -qw net.ipv6.conf.default.disable_ipv6=1; echo ipv6 off',
      /ipv6 off\s*lonet#/,
    );
    await typeLine(
      'ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02 netns b; echo made',
      /made/,
    );
    const row = page.getByTestId('link-veth0');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /^page\s*veth0.*b\s*veth1$/);
    await typeLine(
      'ip addr add 10.0.0.1/24 dev veth0; ip link set veth0 up; ip -n b addr add 10.0.0.2/24 dev veth1; ip -n b link set veth1 up; echo up',
      /up\s*lonet#/,
    );
    await typeLine(
      'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev veth0 nud permanent; ip -n b neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev veth1 nud permanent; echo neighbours',
      /neighbours\s*lonet#/,
    );
    const ab = async () => Number(await row.getAttribute('data-ab'));
    const ba = async () => Number(await row.getAttribute('data-ba'));
    await typeLine('ping -c 2 -i 0.2 10.0.0.2', /2 packets transmitted, 2 received, 0% packet loss/);
    // Two requests went page → b and two replies came back, each counted where it was sent.
    await waitFor(async () => (await ab()) === 2 && (await ba()) === 2);
    assert.match((await row.getAttribute('class')) ?? '', /\blit\b/, 'the cable lit as the packets crossed');
    await typeLine('ip netns exec b ping -c 1 10.0.0.1', /1 packets transmitted, 1 received/);
    await waitFor(async () => (await ab()) === 3 && (await ba()) === 3);
    await typeLine('ip -n b -s link show veth1', /veth1@if\d+:[\s\S]*TX:\s+bytes\s+packets[\s\S]*lonet#/);
    assert.match(await terminalText(), /RX:\s+bytes\s+packets\s+errors\s+dropped\s+missed\s+mcast\s+294\s+3\s/);
    await page.screenshot({ path: join(shots, 'demo-veth.png') });
    assert.deepEqual(pageErrors, []);
  },
);
