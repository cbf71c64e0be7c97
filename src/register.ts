/**
 * `node --import lonet/register app.mjs` (or NODE_OPTIONS='--import lonet/register'):
 * the program's node:net, node:http, node:dgram, global fetch and undici's global
 * dispatcher are a fresh lonet namespace's. Under `node --test` every test file runs in a
 * child process of its own, so each file gets its own namespace. Options come from the
 * environment: see api/register-options.ts (LONET_NETEM, LONET_CLOCK, LONET_PCAP, LONET_STRICT).
 */
import { install } from './api/register.js';
import { makeNamespace, optionsFromEnv, pcapAtExit } from './api/register-options.js';
import { enableStrict } from './api/strict.js';

const opts = optionsFromEnv();
install({
  makeDefault: () => {
    const ns = makeNamespace(opts);
    if (opts.pcap !== undefined) pcapAtExit(ns, opts.pcap);
    return ns;
  },
});
if (opts.strict !== undefined) enableStrict(opts.strict);
