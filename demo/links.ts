/**
 * The cables between namespaces: one row per veth pair the kernel holds (made from the
 * terminal with `ip netns add b; ip link add veth0 type veth peer name veth1 netns b`),
 * with each end's namespace and device. A packet crossing lights the row and sends a dot
 * the way it went; the counts are the ends' own transmit counters (ip -s link), so what
 * the row shows is what the veth driver did.
 */
import type { Namespace } from '../src/api/namespace.js';
import { devGetStats, type NetDevice } from '../src/core/netdevice.js';
import { vethPeerOf } from '../src/drivers/veth.js';
import type { Net } from '../src/net/net.js';
import { el } from './diagram.js';

interface LinkRow {
  a: NetDevice;
  b: NetDevice;
  row: HTMLElement;
  wire: HTMLElement;
  ab: HTMLElement;
  ba: HTMLElement;
  /** Transmit packet counts of each end at the last frame. */
  txA: number;
  txB: number;
  litAt: number;
}

const LIT_MS = 900;

/** "page" for the page's own namespace, else the name `ip netns` gave it. */
function netName(page: Net, net: Net | null): string {
  if (net === page) return 'page';
  return net?.name ?? '?';
}

export class LinkView {
  readonly #root: HTMLElement;
  readonly #list: HTMLElement;
  readonly #rows = new Map<NetDevice, LinkRow>();

  constructor(
    root: HTMLElement,
    readonly ns: Namespace,
  ) {
    this.#root = el('div', 'links');
    this.#root.dataset.testid = 'links';
    this.#list = el('div', 'link-list');
    this.#root.append(
      el('h3', '', 'Cables between namespaces (veth pairs)'),
      el(
        'p',
        'note',
        'None yet: try ip netns add b, then ip link add veth0 type veth peer name veth1 netns b, addresses on both ends, and a ping across.',
      ),
      this.#list,
    );
    root.append(this.#root);
  }

  /** Every veth pair in the kernel, each once, named after the end found first (the page's own, if it holds one). */
  #pairs(): [NetDevice, NetDevice][] {
    const out: [NetDevice, NetDevice][] = [];
    const seen = new Set<NetDevice>();
    const nets = [this.ns as Net, ...[...this.ns.kernel.namespaces].filter((n) => n !== this.ns)];
    for (const net of nets) {
      for (const dev of net.devices) {
        const peer = vethPeerOf(dev);
        if (peer === null || seen.has(dev)) continue;
        seen.add(dev);
        seen.add(peer);
        out.push([dev, peer]);
      }
    }
    return out;
  }

  #end(dev: NetDevice): HTMLElement {
    const end = el('span', 'link-end');
    end.append(el('span', 'link-ns', netName(this.ns, dev.net)), el('code', '', dev.name));
    return end;
  }

  #add(a: NetDevice, b: NetDevice): LinkRow {
    const row = el('div', 'link-row');
    row.dataset.testid = `link-${a.name}`;
    const wire = el('div', 'wire');
    const ab = el('span', 'crossed');
    const ba = el('span', 'crossed');
    row.append(this.#end(a), ab, wire, ba, this.#end(b));
    this.#list.append(row);
    const r: LinkRow = { a, b, row, wire, ab, ba, txA: -1, txB: -1, litAt: 0 };
    this.#rows.set(a, r);
    return r;
  }

  /** Called on every animation frame. */
  update(now: number): void {
    const live = new Set<NetDevice>();
    for (const [a, b] of this.#pairs()) {
      live.add(a);
      const r = this.#rows.get(a) ?? this.#add(a, b);
      const txA = devGetStats(a).txPackets;
      const txB = devGetStats(b).txPackets;
      if (r.txA >= 0 && txA !== r.txA) this.#cross(r, 'ab', now);
      if (r.txB >= 0 && txB !== r.txB) this.#cross(r, 'ba', now);
      r.txA = txA;
      r.txB = txB;
      r.ab.textContent = `${txA} →`;
      r.ba.textContent = `← ${txB}`;
      r.row.dataset.ab = String(txA);
      r.row.dataset.ba = String(txB);
      r.row.classList.toggle('down', !(a.carrierOk && b.carrierOk));
      if (r.row.classList.contains('lit') && now - r.litAt > LIT_MS) r.row.classList.remove('lit');
    }
    for (const [dev, r] of this.#rows) {
      if (live.has(dev)) continue;
      r.row.remove();
      this.#rows.delete(dev);
    }
    this.#root.classList.toggle('empty', this.#rows.size === 0);
  }

  /** A dot runs along the wire the way the packet went. */
  #cross(r: LinkRow, way: 'ab' | 'ba', now: number): void {
    r.row.classList.add('lit');
    r.litAt = now;
    r.row.dataset.lastCrossing = way;
    const dot = el('div', `wire-dot ${way}`);
    r.wire.append(dot);
    dot.addEventListener('animationend', () => dot.remove());
  }
}
