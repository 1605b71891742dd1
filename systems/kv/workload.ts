// What a KV client does next: MIT 6.5840's kvraft workload (each client appends unique
// tokens `x <client> <seq> y` to its own key and reads keys back; Puts on shared keys in the
// random-keys variant), or a fixed script of operations at virtual times.
import type { Random } from '../../sim/random.ts';
import type { WorkloadValue } from '../../sim/types.ts';
import { sharedKey } from './contract.ts';

export type KvOp = { f: 'get'; key: string } | { f: 'put' | 'append'; key: string; value: string };

export interface ScriptedOp {
  /** Not before this virtual time (µs), and after the previous scripted op completed. */
  atUs: number;
  op: KvOp;
}

export interface KvWorkload {
  appendPercent: number;
  putPercent: number;
  sharedKeys: number;
  /** 'own': each client appends to its own key; 'one': every client appends to key "k". */
  appendKeys: 'own' | 'one';
  thinkUsMax: number;
  attemptTimeoutUs: number;
  /** Give up on an operation after this long (its outcome stays unknown); 0: never. */
  giveUpUs: number;
  /**
   * Stop after this many operations (0: none at all, so the shrinker can lower it toward
   * the fewest that still fail); absent: keep going for the whole run.
   */
  opsMax: number;
}

export const DEFAULT_KV_WORKLOAD: KvWorkload = {
  appendPercent: 50,
  putPercent: 0,
  sharedKeys: 5,
  appendKeys: 'own',
  thinkUsMax: 10_000,
  attemptTimeoutUs: 200_000,
  giveUpUs: 2_000_000,
  opsMax: Number.POSITIVE_INFINITY,
};

/**
 * A retry sooner than a round trip plus an fsync only floods the servers. (Replays shrunk
 * before the shrinker kept to `KV_SHRINKABLE_WORKLOAD` may hold lower values.)
 */
const ATTEMPT_TIMEOUT_MIN_US = 20_000;

/** The KV workload's sizes, for the shrinker: fewer operations, fewer shared keys. */
export const KV_SHRINKABLE_WORKLOAD: Readonly<Record<string, number>> = {
  opsMax: 0,
  sharedKeys: 0,
};

type Params = Readonly<Record<string, WorkloadValue>>;

function numberParam(params: Params, name: keyof KvWorkload, fallback: number): number {
  const value = params[name];
  return typeof value === 'number' ? value : fallback;
}

export function kvWorkload(params: Params): KvWorkload {
  const d = DEFAULT_KV_WORKLOAD;
  return {
    appendPercent: numberParam(params, 'appendPercent', d.appendPercent),
    putPercent: numberParam(params, 'putPercent', d.putPercent),
    sharedKeys: numberParam(params, 'sharedKeys', d.sharedKeys),
    appendKeys: params['appendKeys'] === 'one' ? 'one' : 'own',
    thinkUsMax: numberParam(params, 'thinkUsMax', d.thinkUsMax),
    attemptTimeoutUs: Math.max(
      ATTEMPT_TIMEOUT_MIN_US,
      numberParam(params, 'attemptTimeoutUs', d.attemptTimeoutUs),
    ),
    giveUpUs: numberParam(params, 'giveUpUs', d.giveUpUs),
    opsMax: numberParam(params, 'opsMax', d.opsMax),
  };
}

/** The workload key holding client `index`'s script (JSON of ScriptedOp[]). */
export function scriptKey(clientIndex: number): string {
  return `script.${clientIndex}`;
}

/** The workload key holding an op cycle every client repeats (JSON of KvOp[]), if any. */
export const CYCLE_KEY = 'cycle';

export function cycleOf(params: Params): KvOp[] | undefined {
  const text = params[CYCLE_KEY];
  return typeof text === 'string' ? (JSON.parse(text) as KvOp[]) : undefined;
}

export function scriptFor(params: Params, clientIndex: number): ScriptedOp[] | undefined {
  const text = params[scriptKey(clientIndex)];
  return typeof text === 'string' ? (JSON.parse(text) as ScriptedOp[]) : undefined;
}

/** The key every client appends to under `appendKeys: 'one'`. */
export const ONE_KEY = 'k';

export function ownKey(client: number, workload: KvWorkload): string {
  return workload.appendKeys === 'one' ? ONE_KEY : `k${client}`;
}

/** The token client `client` appends as its `seq`-th operation: unique, and says whose it is. */
export function appendToken(client: number, seq: number): string {
  return `x ${client} ${seq} y`;
}

/** Draws the next random operation of client `client` (a node id). */
export function nextOp(
  random: Random,
  workload: KvWorkload,
  client: number,
  clients: readonly number[],
  seq: number,
): KvOp {
  const roll = random.int(100);
  if (roll < workload.appendPercent) {
    return { f: 'append', key: ownKey(client, workload), value: appendToken(client, seq) };
  }
  const shared = workload.sharedKeys > 0 ? sharedKey(random.int(workload.sharedKeys)) : undefined;
  if (roll < workload.appendPercent + workload.putPercent && shared !== undefined) {
    return { f: 'put', key: shared, value: `${client}.${seq}` };
  }
  // Reads: mostly the client's own key (MIT checks it against the expected value), else a
  // shared key or another client's key, so that reads cross clients.
  if (random.chance(0.5)) {
    return { f: 'get', key: ownKey(client, workload) };
  }
  if (workload.putPercent > 0 && shared !== undefined && random.chance(0.5)) {
    return { f: 'get', key: shared };
  }
  return { f: 'get', key: ownKey(random.pick(clients), workload) };
}
