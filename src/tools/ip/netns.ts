/**
 * `ip netns` (iproute2 ip/ipnetns.c): named namespaces. On Linux a name is a bind
 * mount in /run/netns; here it is the kernel's table of names (Kernel.netnsByName),
 * which `new Namespace({ kernel, name })` fills in too. `ip netns add` makes a bare
 * namespace (lo down), as unshare(CLONE_NEWNET) does. A name's removal destroys the
 * namespace at once; Linux frees it once nothing holds it, a moment later.
 */
import { strerror } from '../../include/errno.js';
import { Net } from '../../net/net.js';
import { getInteger, type IpContext, IpExit, matches } from './common.js';

const USAGE = `Usage:	ip netns list
	ip netns add NAME
	ip netns attach NAME PID
	ip netns set NAME NETNSID
	ip [-all] netns delete [NAME]
	ip netns identify [PID]
	ip netns pids NAME
	ip [-all] netns exec [NAME] cmd ...
	ip netns monitor
	ip netns list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]
NETNSID := auto | POSITIVE-INT
`;

function usage(ctx: IpContext): never {
  ctx.stderr.write(USAGE);
  throw new IpExit(255);
}

/** netns_get_fd() failing, as ip -n and ip netns exec say it. */
export function cannotOpen(ctx: IpContext, name: string): never {
  ctx.stderr.write(`Cannot open network namespace "${name}": No such file or directory\n`);
  throw new IpExit(255);
}

/** The namespace a /run/netns name stands for. */
export function netnsByName(ctx: IpContext, name: string): Net | undefined {
  return ctx.net.kernel.netnsByName.get(name);
}

/** Names newest first, as readdir lists a tmpfs /run/netns. */
function names(ctx: IpContext): [string, Net][] {
  return [...ctx.net.kernel.netnsByName].reverse();
}

function netnsList(ctx: IpContext): number {
  let out = '';
  for (const [name, net] of names(ctx)) {
    const id = ctx.net.peernet2id(net);
    out += id >= 0 ? `${name} (id: ${id})\n` : `${name}\n`;
  }
  ctx.stdout.write(out);
  return 0;
}

function netnsAdd(ctx: IpContext, name: string | undefined): number {
  if (name === undefined) {
    ctx.stderr.write('No netns name specified\n');
    return -1;
  }
  if (ctx.net.kernel.netnsByName.has(name)) {
    ctx.stderr.write(`Cannot create namespace file "/run/netns/${name}": File exists\n`);
    return -1;
  }
  new Net({ kernel: ctx.net.kernel, bare: true, name });
  return 0;
}

function netnsDelete(ctx: IpContext, name: string | undefined, all: boolean): number {
  if (all) {
    for (const [, net] of names(ctx)) net.destroy();
    return 0;
  }
  if (name === undefined) {
    ctx.stderr.write('No netns name specified\n');
    return -1;
  }
  const net = netnsByName(ctx, name);
  if (net === undefined) {
    ctx.stderr.write(`Cannot remove namespace file "/run/netns/${name}": No such file or directory\n`);
    return -1;
  }
  net.destroy();
  return 0;
}

/** ip netns set NAME ID: RTM_NEWNSID, refused if either the peer or the id has one already. */
function netnsSet(ctx: IpContext, name: string | undefined, idArg: string | undefined): number {
  if (name === undefined || idArg === undefined) usage(ctx);
  const id = getInteger(idArg);
  if (id === null || id < 0) {
    ctx.stderr.write(`Invalid "netnsid" value\n`);
    return -1;
  }
  const net = netnsByName(ctx, name) ?? cannotOpen(ctx, name);
  if (ctx.net.peernet2id(net) >= 0) {
    ctx.stderr.write('Error: Peer netns already has a nsid assigned.\n');
    return -2;
  }
  if (ctx.net.setNsid(net, id) !== 0) {
    ctx.stderr.write('Error: The specified nsid is already used.\n');
    return -2;
  }
  return 0;
}

function netnsListId(ctx: IpContext): number {
  let out = '';
  for (const [net, id] of ctx.net.nsids) {
    out += net.name !== null ? `nsid ${id} (iproute2 netns name: ${net.name})\n` : `nsid ${id} \n`;
  }
  ctx.stdout.write(out);
  return 0;
}

function netnsIdentify(ctx: IpContext): number {
  const found = names(ctx)
    .filter(([, net]) => net === ctx.net)
    .map(([name]) => name);
  ctx.stdout.write(`${found.join(' ')}\n`);
  return 0;
}

/** ip [-all] netns exec NAME CMD…: the command runs in that namespace (as setns + execvp). */
async function netnsExec(ctx: IpContext, args: string[], all: boolean): Promise<number> {
  const exec = ctx.exec;
  if (all) {
    if (args.length === 0) {
      ctx.stderr.write('No command specified\n');
      return -1;
    }
    for (const [name, net] of names(ctx)) {
      ctx.stdout.write(`\nnetns: ${name}\n`);
      if (exec === undefined) return -1;
      await exec(args, net);
    }
    return 0;
  }
  const [name, ...cmd] = args;
  if (name === undefined) {
    ctx.stderr.write('No netns name specified\n');
    return -1;
  }
  if (cmd.length === 0) {
    ctx.stderr.write('No command specified\n');
    return -1;
  }
  const net = netnsByName(ctx, name) ?? cannotOpen(ctx, name);
  if (exec === undefined) {
    ctx.stderr.write(`exec of "${cmd[0]}" failed: ${strerror(2)}\n`);
    return -1;
  }
  const rc = await exec(cmd, net);
  // iproute2 exits with the command's status: a failing command makes ip fail too.
  if (rc !== 0) throw new IpExit(rc);
  return 0;
}

/** do_netns(). */
export function doNetns(ctx: IpContext, args: string[], all: boolean): number | Promise<number> {
  const [cmd, ...rest] = args;
  if (cmd === undefined) return netnsList(ctx);
  if (matches(cmd, 'list') || matches(cmd, 'show') || matches(cmd, 'lst')) return netnsList(ctx);
  if (matches(cmd, 'list-id')) return netnsListId(ctx);
  if (matches(cmd, 'help')) usage(ctx);
  if (matches(cmd, 'add')) return netnsAdd(ctx, rest[0]);
  if (matches(cmd, 'set')) return netnsSet(ctx, rest[0], rest[1]);
  if (matches(cmd, 'delete')) return netnsDelete(ctx, rest[0], all);
  if (matches(cmd, 'identify')) return netnsIdentify(ctx);
  if (matches(cmd, 'exec')) return netnsExec(ctx, rest, all);
  ctx.stderr.write(`Command "${cmd}" is unknown, try "ip netns help".\n`);
  throw new IpExit(255);
}
