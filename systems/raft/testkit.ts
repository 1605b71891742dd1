// A small deterministic harness for the Raft core's tests: N cores, a lossy network with
// partitions decided by a seeded Random, a disk per node that goes through the real codec,
// crash/restart, and online checks (one leader per term, applies agree). Not used in runs.
import { assert } from '../../sim/assert.ts';
import { Random } from '../../sim/random.ts';
import {
  decodeLog,
  decodeSnapshotFile,
  encodeBatch,
  encodeSnapshotFile,
  readyRecords,
  replayLog,
} from './codec.ts';
import { RaftCore } from './core.ts';
import type {
  Entry,
  Message,
  NodeId,
  RaftBug,
  RaftConfig,
  RaftEvent,
  ReadState,
  RestoredState,
} from './types.ts';

export interface ClusterOptions {
  readonly size: number;
  readonly seed: number | string;
  readonly ids?: readonly NodeId[];
  readonly bugs?: readonly RaftBug[];
  readonly config?: Partial<Omit<RaftConfig, 'id' | 'bugs' | 'randomInt'>>;
  /** Compact the log every this many applied entries (0: never). */
  readonly snapshotEvery?: number;
  readonly dropRate?: number;
  /** Probability that a message is held back for a later delivery round (reordering, staleness). */
  readonly delayRate?: number;
}

export class Disk {
  log: Uint8Array = new Uint8Array(0);
  snapshot: Uint8Array | null = null;
  batch = 0;

  write(bytes: Uint8Array): void {
    const next = new Uint8Array(this.log.length + bytes.length);
    next.set(this.log);
    next.set(bytes, this.log.length);
    this.log = next;
  }

  restore(): RestoredState {
    const decoded = decodeLog(this.log);
    assert(decoded.status.kind === 'ok', `disk log not clean: ${JSON.stringify(decoded.status)}`);
    this.batch = decoded.nextBatch;
    const replayed = replayLog(decoded.records);
    if (this.snapshot === null) {
      return replayed;
    }
    const snap = decodeSnapshotFile(this.snapshot);
    assert(snap.ok, 'snapshot file is damaged');
    return { ...replayed, snapshotMeta: snap.snapshot.meta, snapshotData: snap.snapshot.data };
  }
}

export interface NodeState {
  readonly id: NodeId;
  core: RaftCore;
  readonly disk: Disk;
  /** The application: command text applied at each index (from snapshots and entries). */
  applied: Map<number, string>;
  lastApplied: number;
  readStates: ReadState[];
  up: boolean;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export function text(data: Uint8Array): string {
  return decoder.decode(data);
}

export function bytes(value: string): Uint8Array {
  return encoder.encode(value);
}

export class Cluster {
  readonly nodes = new Map<NodeId, NodeState>();
  readonly random: Random;
  readonly ids: NodeId[];
  readonly events: Array<{ node: NodeId; event: RaftEvent }> = [];
  /** term -> leader elected in it (checked: never two). */
  readonly leaders = new Map<number, NodeId>();
  /** index -> command applied there by anyone (checked: all agree). */
  readonly appliedAt = new Map<number, string>();
  readonly violations: string[] = [];
  private inflight: Message[] = [];
  private blocked = new Set<string>();
  dropRate: number;
  messagesSent = 0;
  /** Optional filter: return false to drop a message. */
  filter: ((m: Message) => boolean) | null = null;
  private readonly options: ClusterOptions;

  constructor(options: ClusterOptions) {
    this.options = options;
    this.random = Random.fromSeed(options.seed);
    this.ids = [...(options.ids ?? Array.from({ length: options.size }, (_, i) => i + 1))];
    this.dropRate = options.dropRate ?? 0;
    for (const id of this.ids) {
      this.addNode(id, this.ids);
    }
  }

  configFor(id: NodeId, voters: readonly NodeId[]): RaftConfig {
    const stream = this.random.fork(`node:${id}`);
    return {
      id,
      voters,
      electionTicks: 10,
      heartbeatTicks: 2,
      preVote: true,
      checkQuorum: true,
      maxEntriesPerAppend: 8,
      maxInflightAppends: 4,
      maxSnapshotChunkBytes: 64,
      ...this.options.config,
      bugs: new Set(this.options.bugs ?? []),
      randomInt: (max) => stream.int(max),
    };
  }

  addNode(id: NodeId, voters: readonly NodeId[], restored?: RestoredState): NodeState {
    const disk = new Disk();
    const state: NodeState = {
      id,
      core: new RaftCore(this.configFor(id, voters), restored ?? disk.restore()),
      disk,
      applied: new Map(),
      lastApplied: 0,
      readStates: [],
      up: true,
    };
    this.nodes.set(id, state);
    if (!this.ids.includes(id)) {
      this.ids.push(id);
    }
    return state;
  }

  node(id: NodeId): NodeState {
    const node = this.nodes.get(id);
    assert(node !== undefined, `no node ${id}`);
    return node;
  }

  core(id: NodeId): RaftCore {
    return this.node(id).core;
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Cuts every link between the two groups (both directions). */
  partition(...groups: NodeId[][]): void {
    this.heal();
    for (const a of groups) {
      for (const b of groups) {
        if (a !== b) {
          for (const x of a) {
            for (const y of b) {
              this.blocked.add(`${x}>${y}`);
            }
          }
        }
      }
    }
  }

  isolate(id: NodeId): void {
    this.partition(
      [id],
      this.ids.filter((x) => x !== id),
    );
  }

  heal(): void {
    this.blocked.clear();
  }

  crash(id: NodeId): void {
    const node = this.node(id);
    node.up = false;
    this.inflight = this.inflight.filter((m) => m.to !== id && m.from !== id);
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    const voters = node.core.voters;
    const restored = node.disk.restore();
    node.core = new RaftCore(this.configFor(id, voters), restored);
    node.applied = new Map();
    node.lastApplied = 0;
    if (restored.snapshotData !== undefined) {
      this.applySnapshot(node, restored.snapshotData, restored.snapshotMeta.lastIncludedIndex);
    }
    node.up = true;
  }

  // ---- driving ------------------------------------------------------------------------------

  leader(): NodeId | null {
    let best: NodeState | null = null;
    for (const node of this.nodes.values()) {
      if (
        node.up &&
        node.core.role === 'leader' &&
        (best === null || node.core.term > best.core.term)
      ) {
        best = node;
      }
    }
    return best?.id ?? null;
  }

  tickAll(): void {
    for (const id of this.ids) {
      const node = this.node(id);
      if (node.up) {
        node.core.tick();
      }
    }
    this.flush();
  }

  /** Drains every node's Ready: persist, send, apply, advance. */
  flush(): void {
    for (let round = 0; round < 100; round++) {
      let any = false;
      for (const id of this.ids) {
        any = this.drainNode(this.node(id)) || any;
      }
      if (!any) {
        return;
      }
    }
  }

  private drainNode(node: NodeState): boolean {
    if (!node.up) {
      return false;
    }
    const ready = node.core.ready();
    if (ready === null) {
      return false;
    }
    const records = readyRecords(ready);
    if (ready.snapshotToPersist !== undefined) {
      node.disk.snapshot = encodeSnapshotFile(ready.snapshotToPersist);
    }
    if (records.length > 0) {
      node.disk.write(encodeBatch(node.disk.batch++, records));
    }
    this.inflight.push(...ready.messages);
    this.messagesSent += ready.messages.length;
    if (ready.snapshotToApply !== undefined) {
      this.applySnapshot(
        node,
        ready.snapshotToApply.data,
        ready.snapshotToApply.meta.lastIncludedIndex,
      );
    }
    for (const entry of ready.committedEntries) {
      this.applyEntry(node, entry);
    }
    node.readStates.push(...ready.readStates);
    for (const event of ready.events) {
      this.observe(node.id, event);
    }
    node.core.advance();
    this.maybeCompact(node);
    return true;
  }

  private readonly votes = new Map<string, NodeId>();

  private observe(id: NodeId, event: RaftEvent): void {
    this.events.push({ node: id, event });
    if (event.type === 'vote-granted') {
      const key = `${id}/${event.term}`;
      const earlier = this.votes.get(key);
      if (earlier !== undefined && earlier !== event.to) {
        this.violations.push(
          `node ${id} voted for ${earlier} and ${event.to} in term ${event.term}`,
        );
      }
      this.votes.set(key, event.to);
    }
    if (
      event.type === 'committed' &&
      event.leaderTerm !== null &&
      event.term !== event.leaderTerm
    ) {
      this.violations.push(
        `leader ${id} of term ${event.leaderTerm} committed index ${event.index} of term ${event.term} by counting`,
      );
    }
    if (event.type === 'became-leader') {
      const other = this.leaders.get(event.term);
      if (other !== undefined && other !== id) {
        this.violations.push(`two leaders in term ${event.term}: ${other} and ${id}`);
      }
      this.leaders.set(event.term, id);
    }
  }

  private applyEntry(node: NodeState, entry: Entry): void {
    if (entry.index !== node.lastApplied + 1) {
      this.violations.push(`node ${node.id} applied ${entry.index} after ${node.lastApplied}`);
    }
    node.lastApplied = entry.index;
    const value = entry.kind === 'command' ? text(entry.data) : `<${entry.kind}>`;
    node.applied.set(entry.index, value);
    this.checkApply(node.id, entry.index, value);
  }

  private checkApply(id: NodeId, index: number, value: string): void {
    const seen = this.appliedAt.get(index);
    if (seen === undefined) {
      this.appliedAt.set(index, value);
    } else if (seen !== value) {
      this.violations.push(
        `node ${id} applied ${JSON.stringify(value)} at ${index}, others ${JSON.stringify(seen)}`,
      );
    }
  }

  private applySnapshot(node: NodeState, data: Uint8Array, index: number): void {
    const pairs = JSON.parse(text(data)) as Array<[number, string]>;
    node.applied = new Map(pairs);
    for (const [i, value] of pairs) {
      this.checkApply(node.id, i, value);
    }
    node.lastApplied = index;
  }

  private maybeCompact(node: NodeState): void {
    const every = this.options.snapshotEvery ?? 0;
    const core = node.core;
    if (every === 0 || core.appliedIndex - core.snapshotMeta.lastIncludedIndex < every) {
      return;
    }
    const index = core.appliedIndex;
    const pairs = [...node.applied.entries()].filter(([i]) => i <= index);
    core.compact(index, bytes(JSON.stringify(pairs)));
    this.drainNode(node);
  }

  /** Delivers every in-flight message once (in a seeded order), dropping some. */
  deliverAll(): void {
    const batch = this.random.shuffle(this.inflight);
    this.inflight = [];
    const delayRate = this.options.delayRate ?? 0;
    for (const m of batch) {
      if (delayRate > 0 && this.random.chance(delayRate)) {
        this.inflight.push(m); // held back: arrives in a later round, possibly stale
      } else {
        this.deliver(m);
      }
    }
    this.flush();
  }

  private deliver(m: Message): void {
    const to = this.nodes.get(m.to);
    if (to === undefined || !to.up || this.blocked.has(`${m.from}>${m.to}`)) {
      return;
    }
    if (this.filter !== null && !this.filter(m)) {
      return;
    }
    if (this.dropRate > 0 && this.random.chance(this.dropRate)) {
      return;
    }
    to.core.step(m);
  }

  /** One round: tick everyone, then deliver messages a couple of times. */
  round(deliveries = 2): void {
    this.tickAll();
    for (let i = 0; i < deliveries; i++) {
      this.deliverAll();
    }
  }

  /** Runs rounds until the predicate holds; returns rounds taken or throws. */
  runUntil(predicate: () => boolean, maxRounds = 500): number {
    for (let round = 0; round < maxRounds; round++) {
      if (predicate()) {
        return round;
      }
      this.round();
    }
    throw new Error(`condition not reached within ${maxRounds} rounds`);
  }

  electLeader(maxRounds = 500): NodeId {
    this.runUntil(() => this.leader() !== null, maxRounds);
    return this.leader() as NodeId;
  }

  /** Proposes on the current leader and waits until `count` up nodes applied it (retrying if lost). */
  commitCommand(command: string, count = this.ids.length, maxRounds = 500): number {
    let index = 0;
    let term = 0;
    this.runUntil(() => {
      const leader = this.leader();
      if (index > 0 && leader !== null && this.lostProposal(leader, index, term, command)) {
        index = 0;
      }
      if (index === 0 && leader !== null) {
        const result = this.core(leader).propose(bytes(command));
        index = result.ok ? result.index : 0;
        term = result.ok ? result.term : 0;
      }
      return index > 0 && this.appliedCount(index, command) >= count;
    }, maxRounds);
    return index;
  }

  private lostProposal(leader: NodeId, index: number, term: number, command: string): boolean {
    const applied = this.appliedAt.get(index);
    if (applied !== undefined) {
      return applied !== command;
    }
    const core = this.core(leader);
    if (core.term === term || index < core.firstIndex) {
      return false;
    }
    const entry = core.entryAt(index);
    return entry === undefined || entry.term !== term;
  }

  appliedCount(index: number, command: string): number {
    let count = 0;
    for (const node of this.nodes.values()) {
      if (node.up && node.applied.get(index) === command) {
        count++;
      }
    }
    return count;
  }

  pending(): readonly Message[] {
    return this.inflight;
  }

  clearInflight(): void {
    this.inflight = [];
  }
}

// ---- random runs (property tests and bug hunts) ------------------------------------------------

export interface RandomRunResult {
  readonly violations: readonly string[];
  readonly error: string | null;
  readonly leaders: number;
  readonly commits: number;
}

/**
 * A seeded storm: rounds with message loss and delay, random partitions, proposals, crashes
 * and restarts; then a settle phase (heal, restart all) that must commit a final command.
 * Afterwards, committed prefixes are compared across nodes (Log Matching on committed entries).
 */
export function randomRun(
  seed: number,
  bugs: readonly RaftBug[] = [],
  steps = 300,
): RandomRunResult {
  const plan = Random.fromSeed(`plan/${seed}`);
  const size = plan.pick([3, 5]);
  const c = new Cluster({
    size,
    seed,
    bugs,
    dropRate: plan.pick([0, 0.05, 0.2]),
    delayRate: plan.pick([0, 0.1, 0.3]),
    snapshotEvery: plan.pick([0, 5, 12]),
    config: {
      preVote: plan.chance(0.7),
      checkQuorum: plan.chance(0.7),
      maxEntriesPerAppend: plan.pick([1, 3, 16]),
      maxInflightAppends: plan.pick([1, 4]),
      maxSnapshotChunkBytes: plan.pick([8, 64, 4096]),
    },
  });
  let error: string | null = null;
  try {
    for (let step = 0; step < steps; step++) {
      randomStep(c, plan, step);
    }
    settle(c);
    checkCommittedPrefixes(c);
  } catch (caught) {
    error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
  }
  return { violations: c.violations, error, leaders: c.leaders.size, commits: c.appliedAt.size };
}

function randomStep(c: Cluster, plan: Random, step: number): void {
  const roll = plan.next();
  if (roll < 0.04) {
    const shuffled = plan.shuffle(c.ids);
    const cut = plan.between(1, shuffled.length - 1);
    c.partition(shuffled.slice(0, cut), shuffled.slice(cut));
  } else if (roll < 0.08) {
    c.heal();
  } else if (roll < 0.11) {
    const victim = plan.pick(c.ids);
    if (c.node(victim).up) {
      c.crash(victim);
    } else {
      c.restart(victim);
    }
  } else if (roll < 0.45) {
    for (const id of c.ids) {
      const node = c.node(id);
      if (node.up && node.core.role === 'leader') {
        node.core.propose(bytes(`s${step}-n${id}`));
      }
    }
    c.flush();
  }
  c.round(1);
}

function settle(c: Cluster): void {
  c.heal();
  c.dropRate = 0;
  for (const id of c.ids) {
    if (!c.node(id).up) {
      c.restart(id);
    }
  }
  c.commitCommand('settle', c.ids.length, 2000);
}

function checkCommittedPrefixes(c: Cluster): void {
  const cores = c.ids.map((id) => c.core(id));
  for (const a of cores) {
    for (const b of cores) {
      const lo = Math.max(a.firstIndex, b.firstIndex);
      const hi = Math.min(a.commitIndex, b.commitIndex);
      for (let index = lo; index <= hi; index++) {
        const x = a.entryAt(index);
        const y = b.entryAt(index);
        if (
          x?.term !== y?.term ||
          text(x?.data ?? new Uint8Array()) !== text(y?.data ?? new Uint8Array())
        ) {
          c.violations.push(`committed entry ${index} differs between ${a.id} and ${b.id}`);
          return;
        }
      }
    }
  }
}
