/**
 * The live view of the path: one box per stage with its counter, drop points beside the
 * stages they hang off, per-CPU backlog bars and lo's counters. It reads the stack once per
 * animation frame; a stage whose counter moved lights up, in path order, and a dot runs
 * down the path, so a single ping is seen crossing it and a flood keeps it lit.
 */
import type { Namespace } from '../src/api/namespace.js';
import { devGetStats } from '../src/core/netdevice.js';
import { DROPS, type DropPoint, STAGES, type Stage } from './stages.js';

export const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', text = ''): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
};

interface Shown {
  box: HTMLElement;
  count: HTMLElement;
  rate: HTMLElement;
  detail: HTMLElement;
  last: number;
  /** Count at the last rate sample. */
  sampled: number;
}

/** How long a stage stays lit after its counter moves, and the step between stages. */
const LIT_MS = 900;
const STEP_MS = 70;

export class PathDiagram {
  readonly #stages = new Map<string, Shown & { def: Stage }>();
  readonly #drops = new Map<string, Shown & { def: DropPoint }>();
  readonly #bars: { fill: HTMLElement; label: HTMLElement; held: number; heldAt: number }[] = [];
  readonly #rail: HTMLElement;
  readonly #loTable: HTMLElement;
  readonly #softnet: HTMLElement;
  readonly #explain: HTMLElement;
  #lastDot = 0;
  #lastRate = 0;

  /** `root` gets the path; `sideRoot` the explanation and the counter tables. */
  constructor(
    root: HTMLElement,
    sideRoot: HTMLElement,
    readonly ns: Namespace,
  ) {
    const path = el('div', 'path');
    this.#rail = el('div', 'rail');
    path.append(this.#rail);
    let context = '';
    STAGES.forEach((def, i) => {
      if (def.context !== context) {
        context = def.context;
        path.append(
          el(
            'div',
            'context',
            context === 'process'
              ? "process context: the sender's system call (sendmsg), on its CPU"
              : 'softirq: NET_RX, when the outermost local_bh_enable() returns (or ksoftirqd)',
          ),
        );
      }
      const row = el('div', 'row');
      const box = this.#box(def.name, def.name, def.where);
      box.el.classList.add('stage', def.context);
      box.el.style.setProperty('--step', `${i * STEP_MS}ms`);
      box.el.addEventListener('click', () => this.explain(def.name, def.where, def.explain));
      row.append(box.el);
      for (const d of DROPS.filter((d) => d.at === def.name)) {
        const drop = this.#box(d.name, d.label, '');
        drop.el.classList.add('drop');
        drop.el.addEventListener('click', () => this.explain(d.label, `at ${d.at}`, d.explain));
        row.append(el('span', 'arrow-right', '→'), drop.el);
        this.#drops.set(d.name, { ...drop.shown, def: d });
      }
      if (def.name === 'backlog') row.append(this.#cpuBars());
      path.append(row);
      this.#stages.set(def.name, { ...box.shown, def });
      if (i < STAGES.length - 1) path.append(el('div', 'arrow-down', '↓'));
    });
    path.append(
      el(
        'div',
        'loop-note',
        '↺ an echo reply (icmp_reply) or a TCP ACK starts again at dev_queue_xmit, from the softirq',
      ),
    );

    this.#explain = el('div', 'explain');
    this.#explain.dataset.testid = 'explain';
    this.explain(
      'Click a stage',
      'each box is a function of Linux 6.18',
      'The counters are what the stack did: each box counts the packets that reached that function in this page, drop boxes read the counters Linux keeps (softnet_stat, ip -s link, /proc/net/snmp).',
    );

    const side = el('div', 'side');
    this.#loTable = el('table', 'counters');
    this.#loTable.dataset.testid = 'lo-counters';
    this.#softnet = el('table', 'counters');
    this.#softnet.dataset.testid = 'softnet';
    side.append(
      this.#explain,
      el('h3', '', 'lo (ip -s link show lo)'),
      this.#loTable,
      el('h3', '', 'softnet_data per CPU (/proc/net/softnet_stat)'),
      this.#softnet,
    );
    root.append(path);
    sideRoot.append(side);
  }

  #box(testid: string, label: string, title: string): { el: HTMLButtonElement; shown: Shown } {
    const box = el('button', 'box');
    box.type = 'button';
    box.dataset.testid = `stage-${testid}`;
    box.dataset.count = '0';
    if (title) box.title = title;
    const count = el('span', 'count', '0');
    const detail = el('span', 'detail');
    const rate = el('span', 'rate');
    box.append(el('span', 'fn', label), count, detail, rate);
    return { el: box, shown: { box, count, rate, detail, last: 0, sampled: 0 } };
  }

  #cpuBars(): HTMLElement {
    const wrap = el('div', 'bars');
    wrap.dataset.testid = 'backlog-bars';
    for (const cpu of this.ns.kernel.cpus) {
      const bar = el('div', 'bar');
      const fill = el('div', 'fill');
      const label = el('span', 'bar-label', `CPU${cpu.id} 0`);
      bar.dataset.testid = `backlog-cpu${cpu.id}`;
      bar.append(fill, label);
      wrap.append(bar);
      this.#bars.push({ fill, label, held: 0, heldAt: 0 });
    }
    return wrap;
  }

  explain(title: string, where: string, text: string): void {
    this.#explain.replaceChildren(el('h3', '', title), el('code', 'where', where), el('p', '', text));
  }

  /** Reads the stack and redraws; called on every animation frame. */
  update(now: number): void {
    const ns = this.ns;
    let moved = false;
    for (const s of this.#stages.values()) {
      if (s.def.detail !== undefined) {
        const d = s.def.detail(ns);
        if (s.detail.textContent !== d) s.detail.textContent = d;
      }
      const n = s.def.count(ns);
      if (n !== s.last) {
        if (s.def.name === 'dev_queue_xmit') moved = true;
        this.#show(s, n, now);
      }
    }
    for (const d of this.#drops.values()) {
      const n = d.def.count(ns);
      if (n !== d.last) this.#show(d, n, now);
    }
    if (moved && now - this.#lastDot > 120) {
      this.#lastDot = now;
      const dot = el('div', 'dot');
      this.#rail.append(dot);
      dot.addEventListener('animationend', () => dot.remove());
    }
    for (const s of [...this.#stages.values(), ...this.#drops.values()]) {
      if (s.box.classList.contains('lit') && now - Number(s.box.dataset.litAt) > LIT_MS) s.box.classList.remove('lit');
    }
    if (now - this.#lastRate >= 1000) {
      const dt = (now - this.#lastRate) / 1000;
      for (const s of [...this.#stages.values(), ...this.#drops.values()]) {
        const r = (s.last - s.sampled) / dt;
        s.rate.textContent = r > 0 ? `${r >= 100 ? Math.round(r) : r.toFixed(1)}/s` : '';
        s.box.classList.toggle('hot', r >= 20);
        s.sampled = s.last;
      }
      this.#lastRate = now;
    }
    this.#updateBars(now);
    this.#updateTables();
  }

  #show(s: Shown, n: number, now: number): void {
    s.last = n;
    s.count.textContent = String(n);
    s.box.dataset.count = String(n);
    // Restart the pulse unless it is still running (a flood would restart it every frame
    // and its delay, which orders the stages along the path, would never elapse).
    if (s.box.classList.contains('lit')) return;
    s.box.classList.add('lit');
    s.box.dataset.litAt = String(now);
  }

  #updateBars(now: number): void {
    const k = this.ns.kernel;
    const peaks = k.trace.takeBacklogPeaks();
    const cap = k.core.netdev_max_backlog + 1;
    k.cpus.forEach((cpu, i) => {
      const b = this.#bars[i];
      if (b === undefined) return;
      const qlen = cpu.sd.inputPktQueue.qlen + cpu.sd.processQueue.qlen;
      // Hold a peak for a second so a burst that drains within a frame is still seen.
      const peak = Math.max(peaks[i] ?? 0, qlen);
      if (peak >= b.held || now - b.heldAt > 1000) {
        b.held = peak;
        b.heldAt = now;
      }
      b.fill.style.width = `${Math.min(100, (b.held / cap) * 100)}%`;
      b.fill.classList.toggle('full', b.held >= cap);
      b.label.textContent = `CPU${cpu.id}: ${qlen} queued, peak ${b.held} / ${cap}`;
    });
  }

  #updateTables(): void {
    const s = devGetStats(this.ns.lo);
    const rows: [string, number, number, number][] = [
      ['RX', s.rxBytes, s.rxPackets, s.rxDropped],
      ['TX', s.txBytes, s.txPackets, s.txDropped],
    ];
    setTable(this.#loTable, ['', 'bytes', 'packets', 'dropped'], rows);
    setTable(
      this.#softnet,
      ['CPU', 'processed', 'dropped', 'time_squeeze', 'backlog'],
      this.ns.kernel.cpus.map((c) => [
        c.id,
        c.sd.processed,
        c.sd.dropped,
        c.sd.timeSqueeze,
        c.sd.inputPktQueue.qlen + c.sd.processQueue.qlen,
      ]),
    );
  }
}

function setTable(table: HTMLElement, head: string[], rows: (string | number)[][]): void {
  const text = (r: (string | number)[]) => r.join('\u0000');
  const key = rows.map(text).join('\n');
  if (table.dataset.key === key) return;
  table.dataset.key = key;
  const tr = (cells: (string | number)[], tag: 'th' | 'td') => {
    const row = el('tr');
    for (const c of cells) row.append(el(tag, '', String(c)));
    return row;
  };
  table.replaceChildren(tr(head, 'th'), ...rows.map((r) => tr(r, 'td')));
}
