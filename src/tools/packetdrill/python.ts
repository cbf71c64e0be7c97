/**
 * The part of Python that packetdrill's `%{ … }%` blocks use: `assert` statements
 * separated by newlines or `;` (with `\` continuations) over integers, names and strings,
 * with comparisons (chained, as `a <= x <= b`), bitwise and arithmetic operators,
 * `not`/`and`/`or`, parentheses and `%` formatting. Names come from a table the caller
 * fills (tcpi_* from TCP_INFO). Not Python: no loops, no functions, no assignment.
 */

export class PythonError extends Error {}

type Value = number | string | boolean;

type Tok = { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'name'; v: string } | { t: 'op'; v: string };

const OPS = [
  '<=',
  '>=',
  '==',
  '!=',
  '<<',
  '>>',
  '//',
  '**',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  '^',
  '~',
  '(',
  ')',
  ',',
];

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+|\d+(\.\d+)?)/.exec(src.slice(i));
    if (num !== null) {
      out.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new PythonError('SyntaxError: EOL while scanning string literal');
      out.push({ t: 'str', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (name !== null) {
      out.push({ t: 'name', v: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw new PythonError(`SyntaxError: invalid character '${c}'`);
    out.push({ t: 'op', v: op });
    i += op.length;
  }
  return out;
}

class Eval {
  #i = 0;
  constructor(
    readonly toks: Tok[],
    readonly names: (name: string) => Value | undefined,
  ) {}

  get done(): boolean {
    return this.#i >= this.toks.length;
  }

  #peekOp(v: string): boolean {
    const t = this.toks[this.#i];
    return t !== undefined && (t.t === 'op' || t.t === 'name') && t.v === v;
  }

  #take(v: string): boolean {
    if (!this.#peekOp(v)) return false;
    this.#i++;
    return true;
  }

  expr(): Value {
    return this.or();
  }

  or(): Value {
    let a = this.and();
    while (this.#take('or')) {
      const b = this.and();
      a = truthy(a) ? a : b;
    }
    return a;
  }

  and(): Value {
    let a = this.not();
    while (this.#take('and')) {
      const b = this.not();
      a = truthy(a) ? b : a;
    }
    return a;
  }

  not(): Value {
    if (this.#take('not')) return !truthy(this.not());
    return this.comparison();
  }

  comparison(): Value {
    let left = this.bitor();
    let result = true;
    let chained = false;
    for (;;) {
      const t = this.toks[this.#i];
      if (t === undefined || t.t !== 'op' || !['<', '>', '<=', '>=', '==', '!='].includes(t.v)) break;
      this.#i++;
      const right = this.bitor();
      result = result && compare(t.v, left, right);
      left = right;
      chained = true;
    }
    return chained ? result : left;
  }

  bitor(): Value {
    let a = this.bitxor();
    while (this.#take('|')) a = num(a) | num(this.bitxor());
    return a;
  }

  bitxor(): Value {
    let a = this.bitand();
    while (this.#take('^')) a = num(a) ^ num(this.bitand());
    return a;
  }

  bitand(): Value {
    let a = this.shift();
    while (this.#take('&')) a = Number(BigInt(num(a)) & BigInt(num(this.shift())));
    return a;
  }

  shift(): Value {
    let a = this.sum();
    for (;;) {
      if (this.#take('<<')) a = num(a) * 2 ** num(this.sum());
      else if (this.#take('>>')) a = Math.floor(num(a) / 2 ** num(this.sum()));
      else return a;
    }
  }

  sum(): Value {
    let a = this.term();
    for (;;) {
      if (this.#take('+')) {
        const b = this.term();
        a = typeof a === 'string' && typeof b === 'string' ? a + b : num(a) + num(b);
      } else if (this.#take('-')) a = num(a) - num(this.term());
      else return a;
    }
  }

  term(): Value {
    let a = this.unary();
    for (;;) {
      if (this.#take('*')) a = num(a) * num(this.unary());
      else if (this.#take('//')) a = Math.floor(num(a) / num(this.unary()));
      else if (this.#take('/')) a = num(a) / num(this.unary());
      else if (this.#take('%')) {
        const b = this.unary();
        a = typeof a === 'string' ? format(a, b) : num(a) - Math.floor(num(a) / num(b)) * num(b);
      } else return a;
    }
  }

  unary(): Value {
    if (this.#take('-')) return -num(this.unary());
    if (this.#take('+')) return num(this.unary());
    if (this.#take('~')) return ~num(this.unary());
    return this.atom();
  }

  atom(): Value {
    const t = this.toks[this.#i++];
    if (t === undefined) throw new PythonError('SyntaxError: unexpected EOF');
    if (t.t === 'num' || t.t === 'str') return t.v;
    if (t.t === 'name') {
      if (t.v === 'True') return true;
      if (t.v === 'False') return false;
      const v = this.names(t.v);
      if (v === undefined) throw new PythonError(`NameError: name '${t.v}' is not defined`);
      return v;
    }
    if (t.v === '(') {
      const v = this.expr();
      if (!this.#take(')')) throw new PythonError("SyntaxError: expected ')'");
      return v;
    }
    throw new PythonError(`SyntaxError: unexpected '${t.v}'`);
  }

  comma(): boolean {
    return this.#take(',');
  }
}

function truthy(v: Value): boolean {
  return typeof v === 'string' ? v.length > 0 : Boolean(v);
}

function num(v: Value): number {
  if (typeof v === 'string') throw new PythonError(`TypeError: a number is required, not str '${v}'`);
  return Number(v);
}

function compare(op: string, a: Value, b: Value): boolean {
  const x = typeof a === 'boolean' ? Number(a) : a;
  const y = typeof b === 'boolean' ? Number(b) : b;
  switch (op) {
    case '==':
      return x === y;
    case '!=':
      return x !== y;
    case '<':
      return x < y;
    case '>':
      return x > y;
    case '<=':
      return x <= y;
    default:
      return x >= y;
  }
}

/** 'cwnd=%d' % x: %d, %s, %u, %x. */
function format(fmt: string, arg: Value): string {
  return fmt.replace(/%([dsux%])/g, (_m, c: string) => {
    if (c === '%') return '%';
    if (c === 'x') return num(arg).toString(16);
    if (c === 'd' || c === 'u') return String(Math.trunc(num(arg)));
    return String(arg);
  });
}

/**
 * Runs a block of assert statements. Returns null when every assertion holds, else
 * Python's message: `AssertionError: <value>`, or the NameError/SyntaxError.
 */
export function runAsserts(code: string, names: (name: string) => Value | undefined): string | null {
  const statements = code
    .replace(/\\\r?\n/g, ' ')
    .split(/[\n;]/)
    .map((s) => s.replace(/#.*$/, '').trim())
    .filter((s) => s !== '');
  try {
    for (const st of statements) {
      if (!st.startsWith('assert ')) throw new PythonError(`SyntaxError: only assert statements are supported: ${st}`);
      const ev = new Eval(lex(st.slice(7)), names);
      const ok = ev.expr();
      let msg: Value | null = null;
      if (ev.comma()) msg = ev.expr();
      if (!ev.done) throw new PythonError(`SyntaxError: invalid syntax: ${st}`);
      if (!truthy(ok)) return `AssertionError: ${msg === null ? st : String(msg)}`;
    }
  } catch (e) {
    if (e instanceof PythonError) return e.message;
    throw e;
  }
  return null;
}
