/**
 * sysctl(8) from procps-ng 4.0: read and write kernel parameters through /proc/sys.
 * Global parameters (net.core.netdev_max_backlog, …) exist only in the initial
 * namespace, exactly as in Linux; per-namespace ones (net.core.somaxconn) everywhere.
 */
import { strerror } from '../include/errno.js';
import { sysctlLookup, sysctlVisible } from '../net/procfs.js';
import type { CommandContext, Output } from './command.js';

const USAGE = `
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
      --dry-run        Print the key and values but do not write
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8).
`;

interface Flags {
  all: boolean;
  binary: boolean;
  ignore: boolean;
  names: boolean;
  values: boolean;
  quiet: boolean;
  write: boolean;
  dryRun: boolean;
  pattern: RegExp | null;
}

/** Slashes and dots are interchangeable in names, as procps allows. */
function keyName(arg: string): string {
  return arg
    .trim()
    .replace(/^\/?proc\/sys\//, '')
    .replace(/\//g, '.');
}

function usage(out: Output, code: number): number {
  out.write(code === 0 ? USAGE.slice(1) : USAGE);
  return code;
}

function version(out: Output): number {
  out.write('sysctl from procps-ng 4.0.2\n');
  return 0;
}

export function sysctl({ argv, net, stdout, stderr }: CommandContext): number {
  const f: Flags = {
    all: false,
    binary: false,
    ignore: false,
    names: false,
    values: false,
    quiet: false,
    write: false,
    dryRun: false,
    pattern: null,
  };
  const vars: string[] = [];
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const long: Record<string, keyof Flags | 'help' | 'version'> = {
      '--all': 'all',
      '--binary': 'binary',
      '--ignore': 'ignore',
      '--names': 'names',
      '--values': 'values',
      '--quiet': 'quiet',
      '--write': 'write',
      '--dry-run': 'dryRun',
      '--help': 'help',
      '--version': 'version',
    };
    if (a.startsWith('--')) {
      const key = long[a];
      if (key === 'help') return usage(stdout, 0);
      if (key === 'version') return version(stdout);
      if (key === undefined || key === 'pattern') {
        stderr.write(`sysctl: unrecognized option '${a}'\n`);
        stdout.write(USAGE);
        return 1;
      }
      (f as unknown as Record<string, boolean>)[key] = true;
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && !a.includes('=')) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j] as string;
        if ('aAX'.includes(c)) f.all = true;
        else if (c === 'b') f.binary = true;
        else if (c === 'e') f.ignore = true;
        else if (c === 'N') f.names = true;
        else if (c === 'n') f.values = true;
        else if (c === 'q') f.quiet = true;
        else if (c === 'w') f.write = true;
        else if (c === 'o' || c === 'x') continue;
        else if (c === 'h' || c === 'd') return usage(stdout, 0);
        else if (c === 'V') return version(stdout);
        else if (c === 'r') {
          const rest = a.slice(j + 1) || args[++i];
          if (rest === undefined) {
            stderr.write("sysctl: option requires an argument -- 'r'\n");
            stdout.write(USAGE);
            return 1;
          }
          f.pattern = new RegExp(rest);
          break;
        } else {
          stderr.write(`sysctl: invalid option -- '${c}'\n`);
          stdout.write(USAGE);
          return 1;
        }
      }
      continue;
    }
    vars.push(a);
  }

  const show = (name: string, value: string) => {
    if (f.names) stdout.write(`${name}\n`);
    else if (f.values) stdout.write(f.binary ? value : `${value}\n`);
    else stdout.write(`${name} = ${value}\n`);
  };

  if (f.all) {
    for (const e of sysctlVisible(net)) {
      if (f.pattern !== null && !f.pattern.test(e.name)) continue;
      show(e.name, e.read(net.kernel, net));
    }
    return 0;
  }
  if (vars.length === 0) {
    stdout.write(USAGE);
    return 1;
  }

  let rc = 0;
  for (const v of vars) {
    const eq = v.indexOf('=');
    if (f.write && eq < 0) {
      stderr.write('sysctl: command line(0): invalid syntax, continuing...\n');
      rc = 1;
      continue;
    }
    const name = keyName(eq < 0 ? v : v.slice(0, eq));
    const e = sysctlLookup(net, name);
    if (e === undefined) {
      if (!f.ignore) {
        stderr.write(`sysctl: cannot stat /proc/sys/${name.replace(/\./g, '/')}: No such file or directory\n`);
        rc = 1;
      }
      continue;
    }
    if (eq < 0) {
      if (f.pattern === null || f.pattern.test(name)) show(name, e.read(net.kernel, net));
      continue;
    }
    const value = v.slice(eq + 1).trim();
    if (!f.dryRun) {
      const err = e.write(net.kernel, net, value);
      if (err < 0) {
        stderr.write(`sysctl: setting key "${name}": ${strerror(err)}\n`);
        rc = 1;
        continue;
      }
    }
    // procps prints the value as given (0x202 stays 0x202), not what reading it back shows.
    if (!f.quiet) show(name, value);
  }
  return rc;
}
