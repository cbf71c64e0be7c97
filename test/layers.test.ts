/**
 * The README's Layout is the rule: a layer imports only the layers listed above it.
 * This reads that list and every import under src/, so the rule and the code cannot
 * drift apart. Type-only imports are the one exception (a struct naming the parts
 * other layers fill in, as `struct net` does).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** The README's Layout block: one rank per line, `src/ipv4, src/ipv6` sharing one. */
function layoutRanks(): Map<string, number> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = readme.split('\n## Layout\n')[1]?.split('\n## ')[0] ?? '';
  const ranks = new Map<string, number>();
  for (const line of block.split('\n')) {
    const m = /^ {4}(src\/[^\s,]+(?:, src\/[^\s,]+)*)/.exec(line);
    if (m === null) continue;
    const rank = ranks.size === 0 ? 0 : Math.max(...ranks.values()) + 1;
    for (const name of (m[1] as string).split(', ')) ranks.set(name.slice('src/'.length), rank);
  }
  return ranks;
}

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts')) yield relative(SRC, p);
  }
}

/** The value imports of a file (import/export … from './x.js'), type-only ones left out. */
function valueImports(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)'/gms)) {
    if (m[1] !== undefined) continue;
    const names = /\{([^}]*)\}/.exec(m[2] as string);
    const specs = names?.[1]
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (specs !== undefined && /^\{/.test((m[2] as string).trim()) && specs.every((s) => s.startsWith('type ')))
      continue;
    out.push(normalize(join(dirname(file), m[3] as string)));
  }
  return out;
}

test("every import under src/ goes down the README's Layout, never up", () => {
  const ranks = layoutRanks();
  assert.ok(ranks.size >= 15, `the README's Layout lists the layers (found ${ranks.size})`);
  const top = Math.max(...ranks.values()) + 1;
  // A folder is a layer; a file directly under src/ is one only when the Layout names it.
  const rankOf = (file: string): number | undefined => {
    const first = file.split('/')[0] as string;
    return ranks.get(first) ?? (file.includes('/') ? undefined : top);
  };
  const unlisted = new Set<string>();
  const upward: string[] = [];
  for (const file of sources(SRC)) {
    const from = rankOf(file);
    if (from === undefined) unlisted.add(file.split('/')[0] as string);
    for (const target of valueImports(file)) {
      const to = rankOf(target.replace(/\.js$/, '.ts'));
      if (from !== undefined && to !== undefined && to > from) upward.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual([...unlisted], [], 'every folder of src/ is a layer in the README');
  assert.deepEqual(upward, [], 'imports that reach up a layer');
});

test('the check sees an upward import when there is one', () => {
  // core/dev.ts importing tools/ would be reported: prove the parser finds value imports.
  assert.ok(valueImports('core/dev.ts').some((t) => t.startsWith('core/')));
  assert.ok(!valueImports('core/sock.ts').some((t) => t.startsWith('net/')), 'a type-only import is not counted');
});
