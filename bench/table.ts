/** Number formats and the markdown table every bench printout uses. */

export function times(v: number | null): string {
  return v === null ? '—' : `${v.toFixed(2)}×`;
}

export function percent(v: number | null): string {
  return v === null ? '—' : `${(v * 100).toFixed(0)} %`;
}

export function fmt(v: number | null): string {
  if (v === null) return '—';
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i] as number) : c.padStart(w[i] as number))).join(' | ')} |`;
  const sep = `|${w.map((n, i) => (i === 0 ? `${'-'.repeat(n + 1)}-` : `${'-'.repeat(n + 1)}:`)).join('|')}|`;
  return [line(head), sep, ...rows.map(line)].join('\n');
}
