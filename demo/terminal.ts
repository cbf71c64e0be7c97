/**
 * The page's terminal: xterm.js (its DOM renderer, so the screen is text a test or a
 * screen reader can read) over the same lonet Shell the CLI runs. A small line editor
 * stands in for readline: history, cursor keys, Ctrl-C to interrupt, Ctrl-L to clear,
 * Tab to complete a command name.
 */
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import type { Namespace } from '../src/api/namespace.js';
import type { Shell } from '../src/tools/shell.js';

const PROMPT = 'lonet# ';
const BUILTINS = ['echo', 'exit', 'false', 'help', 'sleep', 'true', 'wait'];

export class WebTerminal {
  readonly term: Terminal;
  readonly shell: Shell;
  #line = '';
  #cursor = 0;
  #history: string[] = [];
  #historyAt = 0;
  #running: AbortController | null = null;
  /** How many screen rows below the prompt's first row the cursor is (a long line wraps). */
  #cursorRow = 0;
  #pending: string[] = [];
  #names: string[];
  /** Called when a command starts or finishes, so the page can enable its buttons. */
  onBusy: (busy: boolean) => void = () => {};

  constructor(el: HTMLElement, ns: Namespace, commandNames: Iterable<string>) {
    this.term = new Terminal({
      cols: 84,
      rows: 26,
      convertEol: true,
      cursorBlink: true,
      scrollback: 5000,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 13,
      theme: { background: '#0d1117', foreground: '#d1d7e0', cursor: '#7ee787' },
    });
    this.term.open(el);
    // The DOM renderer keeps its theme rules in <style> elements inside the terminal; in the
    // head they style it the same, and the terminal's text is only what was printed.
    for (const style of el.querySelectorAll('style')) document.head.append(style);
    this.shell = ns.shell({
      stdout: { write: (t) => this.term.write(t) },
      stderr: { write: (t) => this.term.write(t) },
    });
    this.#names = [...new Set([...commandNames, ...BUILTINS])].sort();
    this.term.onData((data) => this.#input(data));
    this.term.write("lonet: Linux's loopback path, in this page. Type 'help' for the tools.\n");
    this.term.write(PROMPT);
  }

  get busy(): boolean {
    return this.#running !== null;
  }

  /** Runs a line as if typed at the prompt (the page's command buttons). */
  type(line: string): void {
    if (this.busy) return;
    this.#setLine(line);
    this.#submit();
  }

  focus(): void {
    this.term.focus();
  }

  #input(data: string): void {
    if (this.busy) {
      if (data === '\x03') {
        this.term.write('^C');
        this.#running?.abort();
      } else {
        // Typed ahead: read when the prompt is back, as a tty's line discipline keeps it.
        this.#pending.push(data);
      }
      return;
    }
    // Escape sequences arrive whole; anything else may be several keys (a paste).
    const esc = data.startsWith('\x1b') ? /^(\[[0-9;]*[A-Za-z~]|O[A-Za-z])/.exec(data.slice(1)) : null;
    if (esc !== null) {
      const seq = `\x1b${esc[0]}`;
      this.#escape(seq);
      if (seq.length < data.length) this.#input(data.slice(seq.length));
      return;
    }
    for (let i = 0; i < data.length; i++) {
      const c = data[i] as string;
      if (c === '\r' || c === '\n') {
        if (c === '\n' && data[i - 1] === '\r') continue;
        const rest = data.slice(i + 1);
        this.#submit();
        if (rest.length > 0) this.#pending.unshift(rest);
        return;
      }
      this.#key(c);
    }
  }

  #escape(seq: string): void {
    switch (seq) {
      case '\x1b[A':
        this.#recall(-1);
        return;
      case '\x1b[B':
        this.#recall(1);
        return;
      case '\x1b[C':
        this.#moveTo(Math.min(this.#line.length, this.#cursor + 1));
        return;
      case '\x1b[D':
        this.#moveTo(Math.max(0, this.#cursor - 1));
        return;
      case '\x1b[H':
      case '\x1bOH':
        this.#moveTo(0);
        return;
      case '\x1b[F':
      case '\x1bOF':
        this.#moveTo(this.#line.length);
        return;
      case '\x1b[3~':
        if (this.#cursor < this.#line.length) {
          this.#line = this.#line.slice(0, this.#cursor) + this.#line.slice(this.#cursor + 1);
          this.#redraw();
        }
    }
  }

  #key(c: string): void {
    switch (c) {
      case '\x7f':
      case '\b':
        if (this.#cursor > 0) {
          this.#line = this.#line.slice(0, this.#cursor - 1) + this.#line.slice(this.#cursor);
          this.#cursor--;
          this.#redraw();
        }
        return;
      case '\x03':
        this.#moveTo(this.#line.length);
        this.term.write('^C\n');
        this.#line = '';
        this.#cursor = 0;
        this.#cursorRow = 0;
        this.#redraw();
        return;
      case '\x0c':
        // Clear the screen, keeping the row the cursor is on; the redraw rewrites the line.
        this.term.clear();
        this.#cursorRow = 0;
        this.#redraw();
        return;
      case '\x01':
        this.#moveTo(0);
        return;
      case '\x05':
        this.#moveTo(this.#line.length);
        return;
      case '\x15':
        this.#line = this.#line.slice(this.#cursor);
        this.#cursor = 0;
        this.#redraw();
        return;
      case '\t':
        this.#complete();
        return;
    }
    if (c < ' ') return;
    this.#line = this.#line.slice(0, this.#cursor) + c + this.#line.slice(this.#cursor);
    this.#cursor++;
    this.#redraw();
  }

  /** Completes the first word from the command table and the builtins. */
  #complete(): void {
    if (this.#line.slice(0, this.#cursor).includes(' ')) return;
    const word = this.#line.slice(0, this.#cursor);
    const matches = this.#names.filter((n) => n.startsWith(word));
    if (matches.length === 1) {
      this.#setLine(`${matches[0]} ${this.#line.slice(this.#cursor).trimStart()}`, (matches[0] as string).length + 1);
    } else if (matches.length > 1) {
      this.#moveTo(this.#line.length);
      this.term.write(`\n${matches.join('  ')}\n`);
      this.#cursorRow = 0;
      this.#redraw();
    }
  }

  #recall(step: number): void {
    const at = this.#historyAt + step;
    if (at < 0 || at > this.#history.length) return;
    this.#historyAt = at;
    this.#setLine(this.#history[at] ?? '');
  }

  #moveTo(pos: number): void {
    this.#cursor = pos;
    this.#redraw();
  }

  #setLine(line: string, cursor = line.length): void {
    this.#line = line;
    this.#cursor = cursor;
    this.#redraw();
  }

  /**
   * Rewrites the prompt and the line, over as many rows as it wraps to, and puts the cursor
   * where the editor has it: up to the prompt's first row, erase to the end of the screen,
   * write, then move back from the end to the cursor.
   */
  #redraw(): void {
    const cols = this.term.cols;
    const text = PROMPT + this.#line;
    let out = `${this.#cursorRow > 0 ? `\x1b[${this.#cursorRow}A` : ''}\r\x1b[J${text}`;
    // At the very end of a row the terminal holds the cursor there (a pending wrap): make the wrap real.
    if (text.length % cols === 0) out += '\r\n';
    const endRow = Math.floor(text.length / cols);
    const at = PROMPT.length + this.#cursor;
    const row = Math.floor(at / cols);
    const col = at % cols;
    if (endRow > row) out += `\x1b[${endRow - row}A`;
    out += `\r${col > 0 ? `\x1b[${col}C` : ''}`;
    this.#cursorRow = row;
    this.term.write(out);
  }

  #submit(): void {
    this.#moveTo(this.#line.length);
    const line = this.#line;
    this.#line = '';
    this.#cursor = 0;
    this.term.write('\n');
    if (line.trim() !== '' && this.#history.at(-1) !== line) this.#history.push(line);
    this.#historyAt = this.#history.length;
    void this.#run(line);
  }

  async #run(line: string): Promise<void> {
    this.#running = new AbortController();
    this.onBusy(true);
    try {
      await this.shell.run(line, this.#running.signal);
    } finally {
      this.#running = null;
      this.onBusy(false);
    }
    if (this.shell.exited) {
      // `exit` ends a real shell; here a fresh prompt says the session goes on.
      this.shell.exited = false;
      this.term.write('(the page keeps its shell: exit has nothing to close)\n');
    }
    this.#cursorRow = 0;
    this.term.write(PROMPT);
    while (!this.busy && this.#pending.length > 0) this.#input(this.#pending.shift() as string);
  }
}
