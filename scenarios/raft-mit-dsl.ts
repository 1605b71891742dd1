// A small language for porting the MIT 6.5840 Raft tests (../shared/reference/peer-suites.md
// §1.1–1.2) as scripted scenarios. A test reads as it does in test_test.go:
//
//   s.one('c101', 3);          // cfg.one(101, servers, false)
//   const leader = s.lead(s.pick(s.connected()));   // leader1 := cfg.checkOneLeader()
//   s.disconnect(s.plus(leader, 1));
//   s.one('c102', 2);
//
// and compiles to a plan: faults (MIT's disconnect = a partition cutting every link of that
// server; crash1/start1 = crash and restart) and script steps (injected proposals, "campaign
// now", and named checks). Three differences from the Go harness, all forced by the plan being
// data fixed before the run:
// - The script cannot ask who leads. `lead(node)` makes `node` leader by injecting "campaign
//   now" (these scenarios run Raft as the lab does: no pre-vote, no check-quorum, so a caught-up
//   node that campaigns wins) and then checks that it leads. Random picks come from the seed.
// - Checks are named, and the name carries their arguments ("c7 committed on at least 3 …"),
//   so a replayed or shrunk plan needs nothing but the name. The scenario's `checks` record
//   parses names on lookup. A check that polls (checkOneLeader, one()) is several steps that
//   share per-run state: it passes once and fails only on its last poll.
// - one() cannot stop retrying once its command commits, so each retry proposes a fresh copy
//   ("c7~2"); on a reliable network there is one attempt, after waiting for a leader.
import { serverState } from '../invariants/raft-common.ts';
import { assert } from '../sim/assert.ts';
import { quietKnobs } from '../sim/plan.ts';
import { Random } from '../sim/random.ts';
import type {
  ClusterView,
  FaultEvent,
  Knobs,
  Link,
  Plan,
  ScriptStep,
  Verdict,
} from '../sim/types.ts';
import { LOG_FILE, type RaftNodeView } from '../systems/raft/group.ts';
import { CommandLog } from '../systems/raft/log-machine.ts';

export const MS = 1000;
/** MIT's RaftElectionTimeout: the tester's generous bound on one election. */
export const ELECTION_TIMEOUT_MS = 1000;

/** The lab's Raft: heartbeats at 10/s (TestCount's budget), elections after 300–600 ms. */
export const MIT_RAFT_OPTIONS = {
  tickUs: 10 * MS,
  electionTicks: 30,
  heartbeatTicks: 10,
  preVote: false,
  checkQuorum: false,
} as const;

/** MIT's snapcommon: the service snapshots every 10 applies. */
export const SNAPSHOT_INTERVAL = 10;

const POLLS = 10;
const POLL_MS = 500;
const LEAD_MS = 300;
const ATTEMPT_MS_RELIABLE = 1000;
const ATTEMPT_MS_UNRELIABLE = 2000;
const ATTEMPTS_UNRELIABLE = 3;
const STEPS_MAX = 100_000;

export type Network = 'reliable' | 'unreliable' | 'long-reordering';

/** labrpc's unreliable mode: ~10% of messages lost, 0–26 ms delays, now and then a long one. */
export function networkKnobs(network: Network): Knobs {
  const knobs = quietKnobs();
  if (network === 'reliable') {
    return knobs;
  }
  knobs.faultKinds = ['drop', 'latency-tail'];
  knobs.dropProbability = 0.1;
  knobs.latencyMinUs = 200;
  knobs.latencyJitterMeanUs = 13 * MS;
  // labrpc's long reordering holds replies back 200–2200 ms; a tail of ×40 on a ~13 ms delay
  // gives ~0.5 s, ×20 gives ~0.25 s.
  knobs.latencyTailProbability = network === 'long-reordering' ? 0.1 : 0.01;
  knobs.latencyTailMultiplier = network === 'long-reordering' ? 40 : 20;
  return knobs;
}

/**
 * MIT's unreliable network as the kvraft and shardkv ports run it, over a scenario's own
 * knobs: ~10% of messages lost, long and reordering delays. Not networkKnobs: the Raft ports
 * start from quiet knobs and were calibrated apart (other delays), and their traces stand.
 */
export function unreliableKnobs(knobs: Knobs): Knobs {
  return {
    ...knobs,
    faultKinds: ['drop', 'latency-tail'],
    dropProbability: 0.1,
    latencyJitterMeanUs: 5 * MS,
    latencyTailProbability: 0.02,
    latencyTailMultiplier: 20,
  };
}

// ---------------------------------------------------------------------------------------
// Reading the cluster

export function nodeName(node: number): string {
  return `n${node + 1}`;
}

function nodeIds(names: string): number[] {
  return names
    .trim()
    .split(/\s+/)
    .map((name) => {
      const match = /^n(\d+)$/.exec(name);
      assert(match !== null, `"${name}" is not a server name`);
      return Number(match[1]) - 1;
    });
}

/** The command a stored entry carries: "c7", "c7~2" (a retry) and "c7:…" (padding) are c7. */
function baseId(command: string): string {
  return command.split(/[~:]/, 1)[0] as string;
}

/** The ids of the commands a running server has applied, in order; undefined when down. */
function appliedIds(view: ClusterView, node: number): string[] | undefined {
  if (serverState(view, node) === undefined) {
    return undefined;
  }
  const machine = (view.inspect(node) as RaftNodeView).stateMachine;
  assert(machine instanceof CommandLog, 'the MIT scenarios replicate a CommandLog');
  return machine.commands.map(baseId);
}

function runningServers(view: ClusterView): number[] {
  const running: number[] = [];
  for (const node of view.servers) {
    if (serverState(view, node) !== undefined) {
      running.push(node);
    }
  }
  return running;
}

function describeRoles(view: ClusterView, nodes: number[]): string {
  return nodes
    .map((node) => {
      const state = serverState(view, node);
      return state === undefined
        ? `${nodeName(node)} down`
        : `${nodeName(node)} ${state.role} term ${state.term}`;
    })
    .join(', ');
}

function leadersAmong(view: ClusterView, nodes: number[]): number[] {
  return nodes.filter((node) => serverState(view, node)?.role === 'leader');
}

// ---------------------------------------------------------------------------------------
// Checks: each name carries its arguments; per-run state lives with the run's view.

type Check = (view: ClusterView) => Verdict;

const runState = new WeakMap<ClusterView, Map<string, number>>();

function stateOf(view: ClusterView): Map<string, number> {
  let state = runState.get(view);
  if (state === undefined) {
    state = new Map();
    runState.set(view, state);
  }
  return state;
}

/** A condition polled by several steps: passes once it held on one poll; fails on the last. */
function polled(
  wait: string,
  poll: number,
  polls: number,
  condition: (view: ClusterView) => Verdict,
): Check {
  return (view) => {
    const state = stateOf(view);
    const key = `wait ${wait}`;
    if (state.has(key)) {
      return undefined;
    }
    const verdict = condition(view);
    if (verdict === undefined) {
      state.set(key, poll);
      return undefined;
    }
    return poll >= polls ? verdict : undefined;
  };
}

/** checkOneLeader among the connected servers: one leader in the highest term. */
function oneLeader(nodes: number[]): Check {
  return (view) => {
    const leaders = leadersAmong(view, nodes);
    const terms = new Set(leaders.map((node) => serverState(view, node)?.term));
    if (leaders.length === 0 || terms.size !== leaders.length) {
      const found = leaders.length === 0 ? 'no leader' : 'two leaders in one term';
      return `${found} among the connected servers (${describeRoles(view, nodes)})`;
    }
    return undefined;
  };
}

function leads(node: number, nodes: number[]): Check {
  return (view) => {
    const leaders = leadersAmong(view, nodes);
    if (leaders.length === 1 && leaders[0] === node) {
      return undefined;
    }
    return `${nodeName(node)} campaigned as the only caught-up candidate but does not lead alone: ${describeRoles(view, nodes)}`;
  };
}

function noLeader(nodes: number[]): Check {
  return (view) => {
    const leaders = leadersAmong(view, nodes);
    return leaders.length === 0
      ? undefined
      : `without a quorum no connected server may lead, but ${leaders.map(nodeName).join(', ')} does (${describeRoles(view, nodes)})`;
  };
}

function termsAgree(nodes: number[]): Check {
  return (view) => {
    const terms = new Set(nodes.map((node) => serverState(view, node)?.term));
    const term = [...terms][0] ?? 0;
    return terms.size === 1 && term >= 1
      ? undefined
      : `the connected servers should agree on a term of at least 1: ${describeRoles(view, nodes)}`;
  };
}

function committedOn(id: string, atLeast: number): Check {
  return (view) => {
    const holders = runningServers(view).filter((node) => appliedIds(view, node)?.includes(id));
    return holders.length >= atLeast
      ? undefined
      : `${id} was applied by ${holders.length} servers (${holders.map(nodeName).join(', ') || 'none'}), not at least ${atLeast}`;
  };
}

function committedNowhere(id: string): Check {
  return (view) => {
    const holders = runningServers(view).filter((node) => appliedIds(view, node)?.includes(id));
    return holders.length === 0
      ? undefined
      : `${id} committed without a majority: ${holders.map(nodeName).join(', ')} applied it`;
  };
}

/** Every running server applied exactly this sequence; "c20?" may be missing. */
function appliedExactly(pattern: string[]): Check {
  const source = pattern
    .map((token) => (token.endsWith('?') ? `(?:${token.slice(0, -1)} )?` : `${token} `))
    .join('');
  const expected = new RegExp(`^${source}$`);
  return (view) => {
    for (const node of runningServers(view)) {
      const ids = appliedIds(view, node) ?? [];
      const text = ids.map((id) => `${id} `).join('');
      if (!expected.test(text)) {
        return `${nodeName(node)} applied [${ids.join(' ')}], expected [${pattern.join(' ')}]`;
      }
    }
    return undefined;
  };
}

function appliedInOrder(first: string, second: string): Check {
  return (view) => {
    for (const node of runningServers(view)) {
      const ids = appliedIds(view, node) ?? [];
      const a = ids.indexOf(first);
      const b = ids.indexOf(second);
      if (a < 0 || b <= a) {
        return `${nodeName(node)} should have applied ${first} and then ${second} (state must not regress across restarts), but holds them at positions ${a + 1} and ${b + 1} of ${ids.length}`;
      }
    }
    return undefined;
  };
}

function traffic(view: ClusterView): { messages: number; bytes: number } {
  assert(
    view.messagesSent !== undefined && view.bytesSent !== undefined,
    'message budgets need a view that counts traffic',
  );
  return { messages: view.messagesSent, bytes: view.bytesSent };
}

function mark(name: string): Check {
  return (view) => {
    const state = stateOf(view);
    const { messages, bytes } = traffic(view);
    state.set(`messages ${name}`, messages);
    state.set(`bytes ${name}`, bytes);
    return undefined;
  };
}

function sinceMark(bound: 'most' | 'least', limit: number, what: string, name: string): Check {
  return (view) => {
    const base = stateOf(view).get(`${what} ${name}`);
    assert(base !== undefined, `the script checks ${what} since mark ${name} before setting it`);
    const used = traffic(view)[what === 'messages' ? 'messages' : 'bytes'] - base;
    const ok = bound === 'most' ? used <= limit : used >= limit;
    return ok ? undefined : `${used} ${what} since ${name}, expected at ${bound} ${limit}`;
  };
}

function logUnder(limit: number): Check {
  return (view) => {
    assert(view.fileSize !== undefined, 'a state-size bound needs a view that reads file sizes');
    for (const node of view.servers) {
      const size = view.fileSize(node, LOG_FILE);
      if (size >= limit) {
        return `${nodeName(node)}'s ${LOG_FILE} holds ${size} bytes, not under ${limit}: the log is not trimmed after snapshots`;
      }
    }
    return undefined;
  };
}

const CHECK_GRAMMAR: [RegExp, (match: string[]) => Check][] = [
  [
    /^one leader among ([n\d ]+) \(wait (\d+), poll (\d+)\/(\d+)\)$/,
    ([, nodes, wait, poll, polls]) =>
      polled(wait as string, Number(poll), Number(polls), oneLeader(nodeIds(nodes as string))),
  ],
  [
    /^(n\d+) leads among ([n\d ]+)$/,
    ([, node, nodes]) => leads(nodeIds(node as string)[0] as number, nodeIds(nodes as string)),
  ],
  [/^no leader among ([n\d ]+)$/, ([, nodes]) => noLeader(nodeIds(nodes as string))],
  [/^terms agree among ([n\d ]+)$/, ([, nodes]) => termsAgree(nodeIds(nodes as string))],
  [
    /^(\S+) committed on at least (\d+) \(wait (\d+), poll (\d+)\/(\d+)\)$/,
    ([, id, atLeast, wait, poll, polls]) =>
      polled(
        wait as string,
        Number(poll),
        Number(polls),
        committedOn(id as string, Number(atLeast)),
      ),
  ],
  [/^(\S+) committed nowhere$/, ([, id]) => committedNowhere(id as string)],
  [
    /^applied exactly \[([^\]]*)\] on every running server$/,
    ([, ids]) => appliedExactly((ids as string).split(' ').filter((id) => id.length > 0)),
  ],
  [
    /^(\S+) then (\S+) on every running server$/,
    ([, first, second]) => appliedInOrder(first as string, second as string),
  ],
  [/^mark (\S+)$/, ([, name]) => mark(name as string)],
  [
    /^at (most|least) (\d+) (messages|bytes) since (\S+)$/,
    ([, bound, limit, what, name]) =>
      sinceMark(bound as 'most' | 'least', Number(limit), what as string, name as string),
  ],
  [/^raft\.log under (\d+) bytes on every server$/, ([, limit]) => logUnder(Number(limit))],
];

const resolved = new Map<string, Check>();

/** The check a step names, built from its name; undefined for a name no rule matches. */
export function resolveCheck(name: string): Check | undefined {
  const known = resolved.get(name);
  if (known !== undefined) {
    return known;
  }
  for (const [pattern, make] of CHECK_GRAMMAR) {
    const match = pattern.exec(name);
    if (match !== null) {
      const check = make([...match]);
      resolved.set(name, check);
      return check;
    }
  }
  return undefined;
}

/**
 * The scenario's `checks` record. The simulator looks checks up by name; the names carry their
 * arguments, so this record answers any name the grammar knows instead of listing them.
 */
export const MIT_CHECKS: Record<string, Check> = new Proxy({} as Record<string, Check>, {
  get: (_target, name) => (typeof name === 'string' ? resolveCheck(name) : undefined),
});

// ---------------------------------------------------------------------------------------
// The script builder

const encoder = new TextEncoder();

export class MitScript {
  /** Virtual time of the next action, µs. */
  t = 0;
  readonly faults: FaultEvent[] = [];
  readonly script: ScriptStep[] = [];
  readonly random: Random;
  readonly servers: number;
  private readonly disconnected = new Set<number>();
  private readonly down = new Set<number>();
  private readonly attempts: number;
  private readonly attemptUs: number;
  /** Set when the topology changed since a leader was last seen. */
  private unsettled = true;
  private waits = 0;
  private lastCheckUs = -1;
  private settleAtUs: number | undefined;
  /** On an unreliable network a forced campaign may lose, so lead() does not check it. */
  private readonly checkLeads: boolean;

  constructor(seed: number, servers: number, network: Network) {
    this.random = Random.fromSeed(seed).fork('mit');
    this.servers = servers;
    const reliable = network === 'reliable';
    this.attempts = reliable ? 1 : ATTEMPTS_UNRELIABLE;
    this.checkLeads = reliable;
    this.attemptUs = (reliable ? ATTEMPT_MS_RELIABLE : ATTEMPT_MS_UNRELIABLE) * MS;
  }

  // --- who is where ---

  all(): number[] {
    return Array.from({ length: this.servers }, (_, node) => node);
  }

  /** MIT's cfg.connected: up and not disconnected. */
  connected(): number[] {
    return this.all().filter((node) => !this.disconnected.has(node) && !this.down.has(node));
  }

  isUp(node: number): boolean {
    return !this.down.has(node);
  }

  isConnected(node: number): boolean {
    return !this.disconnected.has(node) && !this.down.has(node);
  }

  upCount(): number {
    return this.servers - this.down.size;
  }

  /** (node + k) % servers, as the Go tests write it. */
  plus(node: number, k: number): number {
    return (node + k) % this.servers;
  }

  pick(nodes: readonly number[]): number {
    return this.random.pick(nodes);
  }

  sleep(ms: number): void {
    assert(ms >= 0, 'sleep forward only');
    this.t += Math.round(ms * MS);
  }

  private step(step: ScriptStep): void {
    assert(this.script.length < STEPS_MAX, 'the script is too long');
    this.script.push(step);
  }

  check(name: string, atUs = this.t): void {
    assert(resolveCheck(name) !== undefined, `no check rule matches "${name}"`);
    this.step({ atUs, kind: 'check', check: name });
    this.lastCheckUs = Math.max(this.lastCheckUs, atUs);
  }

  /**
   * Now, for a fault. The simulator runs a plan's faults before its script steps at the same
   * instant, so a fault at the instant of a check would change what the check sees: the fault
   * moves just after the check, as in the Go test where the check returned first.
   */
  private faultUs(): number {
    if (this.t <= this.lastCheckUs) {
      this.t = this.lastCheckUs + 1;
    }
    return this.t;
  }

  // --- faults ---

  disconnect(...nodes: number[]): void {
    for (const node of nodes) {
      this.disconnected.add(node);
    }
    this.cut();
  }

  connect(...nodes: number[]): void {
    for (const node of nodes) {
      this.disconnected.delete(node);
    }
    this.cut();
  }

  /** Replaces the partition: every link between a disconnected server and another is cut. */
  private cut(): void {
    assert(this.settleAtUs === undefined, 'no faults after settle()');
    this.unsettled = true;
    const atUs = this.faultUs();
    if (this.disconnected.size === 0) {
      this.faults.push({ atUs, kind: 'heal' });
      return;
    }
    const links: Link[] = [];
    for (const node of [...this.disconnected].sort((a, b) => a - b)) {
      for (const other of this.all()) {
        if (other !== node) {
          links.push([node, other], [other, node]);
        }
      }
    }
    const shape = this.disconnected.size === 1 ? 'isolate' : 'groups';
    this.faults.push({ atUs, kind: 'partition', shape, links });
  }

  /** MIT's crash1: disconnect, then kill; the disk keeps what was fsynced. */
  crash(node: number): void {
    assert(this.settleAtUs === undefined, 'no faults after settle()');
    this.disconnect(node);
    if (!this.down.has(node)) {
      this.down.add(node);
      this.faults.push({ atUs: this.faultUs(), kind: 'crash', node });
    }
  }

  /** MIT's start1: crash if running, then boot from the disk; still disconnected. */
  start1(node: number): void {
    this.crash(node);
    this.down.delete(node);
    this.faults.push({ atUs: this.faultUs(), kind: 'restart', node });
  }

  // --- client side ---

  /** rf.Start(cmd) on one server, whatever its connectivity: a follower ignores it. */
  start(node: number, id: string, padToBytes = 0): void {
    assert(!/[~:\s]/.test(id), `command id ${id} must not contain ~, : or spaces`);
    this.propose(node, id, padToBytes);
  }

  /** Injects one proposal; `copy` may carry a retry suffix ("c7~2"). */
  private propose(node: number, copy: string, padToBytes: number): void {
    const id = copy;
    if (this.down.has(node)) {
      return; // cfg.rafts[node] is nil
    }
    const text = padToBytes > id.length ? `${id}:`.padEnd(padToBytes, '.') : id;
    this.step({
      atUs: this.t,
      kind: 'inject',
      node,
      message: { type: 'propose', id, data: encoder.encode(text) },
    });
  }

  // --- MIT's checks ---

  /** checkOneLeader: polls the connected servers for up to POLLS × POLL_MS. */
  awaitLeader(): void {
    const wait = ++this.waits;
    const among = this.connected().map(nodeName).join(' ');
    for (let poll = 1; poll <= POLLS; poll++) {
      this.check(
        `one leader among ${among} (wait ${wait}, poll ${poll}/${POLLS})`,
        this.t + poll * POLL_MS * MS,
      );
    }
    this.t += POLLS * POLL_MS * MS;
    this.unsettled = false;
  }

  /** leader := checkOneLeader(), made deterministic: `node` campaigns and must then lead. */
  lead(node: number): number {
    assert(this.isConnected(node), `${nodeName(node)} must be connected to lead`);
    if (this.unsettled) {
      this.awaitLeader();
    }
    this.campaign(node);
    this.sleep(LEAD_MS);
    if (this.checkLeads) {
      this.check(`${nodeName(node)} leads among ${this.connected().map(nodeName).join(' ')}`);
    }
    return node;
  }

  /** "Campaign now" without a check: on an unreliable network the campaign may lose. */
  campaign(node: number): void {
    if (this.isUp(node)) {
      this.step({ atUs: this.t, kind: 'inject', node, message: { type: 'campaign' } });
    }
  }

  checkNoLeader(): void {
    this.check(`no leader among ${this.connected().map(nodeName).join(' ')}`);
  }

  checkTerms(): void {
    this.check(`terms agree among ${this.connected().map(nodeName).join(' ')}`);
  }

  checkCommittedNowhere(id: string): void {
    this.check(`${id} committed nowhere`);
  }

  checkApplied(pattern: string[]): void {
    this.check(`applied exactly [${pattern.join(' ')}] on every running server`);
  }

  /**
   * cfg.one(cmd, n, retry): Start on every connected server (followers ignore it); at least n
   * servers apply it. Waits for a leader first if the topology changed; on an unreliable
   * network retries with fresh copies.
   */
  one(id: string, atLeast: number, padToBytes = 0): void {
    if (this.unsettled) {
      this.awaitLeader();
    }
    this.t = this.oneAt(id, atLeast, this.t, padToBytes);
  }

  /** one() started at `startUs` without moving the script on; returns when it is judged. */
  oneAt(id: string, atLeast: number, startUs: number, padToBytes = 0): number {
    const wait = ++this.waits;
    const saved = this.t;
    let endUs = startUs;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      assert(!/[~:\s]/.test(id), `command id ${id} must not contain ~, : or spaces`);
      const copy = attempt === 1 ? id : `${id}~${attempt}`;
      this.t = startUs + (attempt - 1) * this.attemptUs;
      for (const node of this.connected()) {
        this.propose(node, copy, padToBytes);
      }
      endUs = this.t + this.attemptUs;
      this.check(
        `${id} committed on at least ${atLeast} (wait ${wait}, poll ${attempt}/${this.attempts})`,
        endUs,
      );
    }
    this.t = saved;
    return endUs;
  }

  /** Several one() calls in a row (MIT waits for each; here they are `spacingMs` apart). */
  oneSeries(ids: string[], atLeast: number, spacingMs = 50): void {
    if (this.unsettled) {
      this.awaitLeader();
    }
    let endUs = this.t;
    for (const [index, id] of ids.entries()) {
      endUs = this.oneAt(id, atLeast, this.t + index * spacingMs * MS);
    }
    this.t = endUs;
  }

  /** cfg.wait(index, n): a command proposed earlier is applied by at least n servers. */
  expectCommitted(id: string, atLeast: number): void {
    const wait = ++this.waits;
    this.check(`${id} committed on at least ${atLeast} (wait ${wait}, poll 1/1)`);
  }

  /**
   * Ends the fault phase here: the simulator heals the network, calms it (no more drops or
   * delays: MIT's setunreliable(false)) and restarts every crashed server.
   */
  settle(): void {
    assert(this.settleAtUs === undefined, 'settle once');
    this.settleAtUs = this.t;
    this.disconnected.clear();
    this.down.clear();
    this.unsettled = true;
  }

  mark(name: string): void {
    this.check(`mark ${name}`);
  }

  /** Faults stop here: at settle(), else just after the last step. */
  durationUs(): number {
    return this.settleAtUs ?? this.t + 100 * MS;
  }

  /** Builds the plan: the base plan with this script, these faults and the network's knobs. */
  plan(base: Plan, knobs: Knobs, settleMinUs: number): Plan {
    const used = new Set(knobs.faultKinds);
    if (this.faults.some((fault) => fault.kind === 'partition')) {
      used.add('partition');
    }
    if (this.faults.some((fault) => fault.kind === 'crash')) {
      used.add('crash');
    }
    const endUs = this.t + 100 * MS;
    const durationUs = this.durationUs();
    return {
      ...base,
      durationUs,
      settleUs: Math.max(settleMinUs, endUs - durationUs),
      knobs: { ...knobs, faultKinds: [...used] },
      faults: this.faults,
      script: this.script,
    };
  }
}

/** Fresh command ids: "<prefix>1", "<prefix>2", … (MIT uses rand.Int()). */
export function ids(prefix: string, count: number, from = 1): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}${from + index}`);
}
