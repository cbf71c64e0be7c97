/** The other tools: ping, ifconfig, ethtool, sysctl, cat, with their options and odd values. */
import fc from 'fast-check';
import { commands } from '../src/tools/index.js';
import { argvTarget, oddWords } from './argv.js';

const perTool: Record<string, string[]> = {
  ping: [
    '-c',
    '1',
    '2',
    '-i',
    '0',
    '0.2',
    '-s',
    '-W',
    '-w',
    '-q',
    '-t',
    '-I',
    '-f',
    '-n',
    '-4',
    '-6',
    '127.0.0.1',
    '::1',
    'localhost',
    '-l',
    '-Q',
  ],
  ping6: ['-c', '1', '-s', '-W', '::1', '127.0.0.1'],
  ifconfig: ['-a', 'lo', 'lo:1', 'up', 'down', 'mtu', 'netmask', 'broadcast', 'add', 'del', '-s', '-v'],
  ethtool: ['-k', '-K', '-i', '-S', '-T', '-g', 'lo', 'tso', 'on', 'off', 'rx-checksumming', 'sg', '--json'],
  sysctl: [
    '-a',
    '-n',
    '-N',
    '-q',
    '-e',
    '-w',
    '-p',
    'net.core.netdev_max_backlog',
    'net.core.netdev_max_backlog=1',
    'net.core.netdev_max_backlog=-1',
    'net.core.dev_weight=0',
    'net.core.netdev_budget=0',
    'net.core.rmem_default=1',
    'net.core.flow_limit_cpu_bitmap=3',
    'net.ipv4.ping_group_range=0 2147483647',
    'net.ipv4.ip_local_port_range=40000 30000',
    'net.ipv4.ipfrag_high_thresh=0',
    'net.ipv4.icmp_ratelimit=-5',
    'net.ipv6.conf.lo.mtu=1279',
    'net.ipv6.conf.all.disable_ipv6=1',
    'net.ipv4.conf.lo.forwarding=1',
    'kernel.x=1',
    'net..=',
  ],
  cat: [
    '/proc/net/dev',
    '/proc/net/snmp',
    '/proc/net/snmp6',
    '/proc/net/softnet_stat',
    '/proc/net/if_inet6',
    '/proc/sys/net/core/somaxconn',
    '/proc/net/',
    '/etc/passwd',
    '/proc/sys/net/ipv4/../../',
  ],
};

export const toolsTarget = argvTarget(
  'tools',
  'ping, ifconfig, ethtool, sysctl and cat with their options and odd values',
  commands,
  fc
    .constantFrom(...Object.keys(perTool))
    .chain((tool) =>
      fc
        .array(
          fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom(...(perTool[tool] as string[])) },
            { weight: 2, arbitrary: oddWords },
            { weight: 1, arbitrary: fc.string() },
          ),
          { maxLength: 6 },
        )
        .map((args) => [tool, ...args]),
    ),
);
