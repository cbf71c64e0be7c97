/**
 * lonet in a web page: a Namespace made here, the lonet shell in a terminal, and the
 * live path. Nothing is simulated for the page: the terminal runs the CLI's tools on the
 * page's namespace, and the diagram reads that namespace's counters.
 */
import './macrotask.js';
import './process.js';
import { Namespace } from '../src/api/namespace.js';
import { devAddPack, devQueueXmit } from '../src/core/dev.js';
import { NET_RX } from '../src/core/if.js';
import { kfreeSkb, skbFromBytes } from '../src/core/skbuff.js';
import { commands } from '../src/tools/index.js';
import { PageCapture } from './capture.js';
import { PathDiagram } from './diagram.js';
import { startPageServer } from './http-server.js';
import { LinkView } from './links.js';
import './style.css';
import { WebTerminal } from './terminal.js';

declare global {
  interface Window {
    /** The page's network namespace: `await lonet.exec('ip -s link show lo')`. */
    lonet: Namespace;
  }
}

const ns = new Namespace();
window.lonet = ns;

const $ = (id: string) => document.getElementById(id) as HTMLElement;

const terminal = new WebTerminal($('terminal'), ns, commands.keys());
const diagram = new PathDiagram($('diagram'), $('side'), ns);
const links = new LinkView($('diagram'), ns);
const capture = new PageCapture(ns);
// curl's peer: a web server on the page's 127.0.0.1:8080 and [::1]:8080.
const serverReady = startPageServer(ns).catch((e: unknown) => console.error('page web server:', e));
void serverReady;

/** Commands a learner can run with a click; tools that other issues add show up when they exist. */
const TRY: [line: string, needs?: string][] = [
  ['ping -c 2 -i 0.2 127.0.0.1'],
  ['ping -6 -c 2 ::1'],
  ['ping -f -c 2000 127.0.0.1'],
  ['ip -s link show lo'],
  ['cat /proc/net/softnet_stat'],
  ['sysctl -w net.core.netdev_max_backlog=100'],
  ['sysctl -w net.core.netdev_budget=32'],
  ['ip link set lo down'],
  ['ip link set lo up'],
  ['curl -i http://127.0.0.1:8080/', 'curl'],
  ['curl -s http://[::1]:8080/hello', 'curl'],
  ['ss -tan', 'ss'],
  ['ss -a', 'ss'],
  ['tcpdump -ni lo -c 4 & ping -c 2 -i 0.2 127.0.0.1', 'tcpdump'],
  ['tc qdisc add dev lo root netem delay 10ms', 'tc'],
  ['tc qdisc del dev lo root', 'tc'],
  ['cat /proc/net/snmp'],
  // A second host: namespace b on the other end of a veth cable (static neighbours until ARP).
  [
    'ip netns add b; ip link add veth0 address 02:00:00:00:00:01 type veth peer name veth1 address 02:00:00:00:00:02 netns b; ip addr add 10.0.0.1/24 dev veth0; ip link set veth0 up; ip -n b addr add 10.0.0.2/24 dev veth1; ip -n b link set veth1 up; ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev veth0 nud permanent; ip -n b neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev veth1 nud permanent',
  ],
  ['ping -c 2 -i 0.2 10.0.0.2'],
  ['ip netns exec b ping -c 2 -i 0.2 10.0.0.1'],
  ['ip -n b -s link show veth1'],
];
const tryBox = $('try');
const tryButtons: HTMLButtonElement[] = [];
for (const [line, needs] of TRY) {
  if (needs !== undefined && !commands.has(needs)) continue;
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'chip';
  b.textContent = line;
  b.addEventListener('click', () => {
    terminal.type(line);
    terminal.focus();
  });
  tryBox.append(b);
  tryButtons.push(b);
}
terminal.onBusy = (busy) => {
  for (const b of tryButtons) b.disabled = busy;
};

/** ETH_P_802_EX1, the IEEE's local experimental ethertype: frames no protocol claims. */
const ETH_P_802_EX1 = 0x88b5;
let burstReceived = 0;
// A packet socket bound to ETH_P_802_EX1 on lo: where the burst's frames end up.
devAddPack(ns.kernel, {
  type: ETH_P_802_EX1,
  dev: ns.lo,
  func: (skb) => {
    burstReceived++;
    kfreeSkb(skb);
    return NET_RX.SUCCESS;
  },
});

/**
 * N minimum-size frames through lo in one go from CPU 0, with its softirq held off until
 * the last is queued (as in `npm start`'s tour): what an interrupt storm does to a backlog,
 * and the one way to overflow lo's, since every system call runs the softirq on return.
 */
function burst(count: number): void {
  const frame = new Uint8Array(60);
  frame[12] = ETH_P_802_EX1 >> 8;
  frame[13] = ETH_P_802_EX1 & 0xff;
  ns.kernel.runOn(0, () => {
    for (let i = 0; i < count; i++) {
      const skb = skbFromBytes(frame, 0);
      skb.dev = ns.lo;
      devQueueXmit(skb);
    }
  });
}
const burstCount = $('burst-count') as HTMLInputElement;
$('burst').addEventListener('click', () => {
  const n = Math.max(1, Math.min(100_000, Number.parseInt(burstCount.value, 10) || 5000));
  burst(n);
});

const capBtn = $('capture') as HTMLButtonElement;
const dlBtn = $('download') as HTMLButtonElement;
const capInfo = $('capture-info');
capBtn.addEventListener('click', () => {
  if (capture.running) capture.stop();
  else capture.start();
});
$('capture-clear').addEventListener('click', () => capture.clear());
dlBtn.addEventListener('click', () => {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(capture.file());
  a.download = 'lonet-lo.pcap';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
});

function frame(now: number): void {
  diagram.update(now);
  links.update(now);
  capBtn.textContent = capture.running ? 'Stop capture' : 'Start capture';
  capBtn.classList.toggle('recording', capture.running);
  dlBtn.disabled = capture.packets === 0;
  capInfo.textContent =
    `${capture.packets} packets, ${capture.bytes + 24} bytes` +
    (capture.dropped > 0 ? ` (${capture.dropped} not kept: 64 MiB is enough)` : '');
  $('burst-received').textContent = `packet socket received ${burstReceived}`;
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
capture.start();
terminal.focus();
