/**
 * fnmatch(3) as the tools call it: `*`, `?`, `[…]` classes (`[!…]` negated) and backslash
 * escapes; `casefold` is FNM_CASEFOLD (nstat's patterns). One copy for `ip addr label` and nstat.
 */
export function fnmatch(pattern: string, s: string, casefold = false): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length)
      re += `\\${pattern[++i] as string}`.replace(/\\([a-zA-Z0-9])/, '$1');
    else re += c.replace(/[.+^${}()|\\/\]]/g, '\\$&');
  }
  try {
    return new RegExp(`${re}$`, casefold ? 'is' : 's').test(s);
  } catch {
    return false;
  }
}
