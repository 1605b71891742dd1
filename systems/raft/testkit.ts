// The Raft core's test harness: N cores driven step by step, on the kernel's fault model.
// Each node has the kernel's Disk (sim/disk.ts: sectors, a volatile layer, fsyncs that
// complete later, crashes that lose or tear what was not synced, fsync errors), its clock
// and pause state in a kernel NodeSlot (drift, a monotonic clock for leases), and messages
// cross the kernel's Network (sim/network.ts: cut links checked at send and arrival, drops,
// duplicates, jitter that reorders, latency tails), partitioned in the kernel's shapes.
// Each node persists by the adapter's rules (testkit-node.ts): a Ready is written and
// fsynced, and only once the fsync has completed are its messages sent and its entries
// applied; restart recovers from the disk through the real codec. Tests poke the cores
// directly between steps; online checks record violations (one leader per term, one vote
// per term, current-term commits, applies agree). Seeded storms are in testkit-storm.ts.
//
// Time: `nowUs` moves one tick period per tickAll(), and each node ticks as its own clock
// says (drift); clocks, leases and pauses run on it. The network and the disk move in hops:
// each deliverAll() is one hop, worth HOP_US of message or fsync latency (a round is a tick
// and two hops), so a latency tail holds a message back for a few hops, and a slow fsync
// can still be in progress when a test crashes the node between rounds.
import { assert } from '../../sim/assert.ts';
import { Disk } from '../../sim/disk.ts';
import { Network } from '../../sim/network.ts';
import { cutBetween, partitionLinks, quietKnobs } from '../../sim/plan.ts';
import { Random } from '../../sim/random.ts';
import { NodeSlot } from '../../sim/simulation.ts';
import { programOf } from '../../sim/testing.ts';
import type { Knobs, Link, PartitionShape } from '../../sim/types.ts';
import { RaftCore } from './core.ts';
import { TestNode } from './testkit-node.ts';
import type {
  Entry,
  Message,
  NodeId,
  RaftBug,
  RaftConfig,
  RaftEvent,
  Ready,
  RestoredState,
  SnapshotMeta,
} from './types.ts';

export { TestNode } from './testkit-node.ts';

export const TICK_US = 10_000;
/** A hop's worth of latency: a round (one tick, two deliveries) covers a tick period. */
export const HOP_US = TICK_US / 2;
const NETWORK_SIZE = 16;
const FLUSH_ROUNDS_MAX = 100;
/** A process that died on a failed fsync is restarted by its supervisor this much later. */
const SUPERVISOR_RESTART_US = 50_000;

/**
 * The kernel's quiet knobs with a narrow jitter: every message arrives within its hop
 * (reordered among its hop's messages), and every fsync completes within the hop that
 * started it, unless a test or a storm turns on tails, drops, duplicates or slow fsyncs.
 */
export function testKnobs(overrides: Partial<Knobs> = {}): Knobs {
  return {
    ...quietKnobs(),
    latencyMinUs: 1000,
    latencyJitterMeanUs: 250,
    fsyncLatencyMinUs: 200,
    fsyncLatencyMaxUs: 2000,
    tornWriteProbability: 1,
    ...overrides,
  };
}

export interface ClusterOptions {
  readonly size: number;
  readonly seed: number | string;
  readonly ids?: readonly NodeId[];
  readonly bugs?: readonly RaftBug[];
  readonly config?: Partial<Omit<RaftConfig, 'id' | 'bugs' | 'randomInt'>>;
  /** Lease reads, timed on each node's monotonic clock (what the adapter gives the core). */
  readonly leaseDurationUs?: number;
  /** Compact the log every this many applied entries (0: never). */
  readonly snapshotEvery?: number;
  /** The network's and the disks' knobs, over testKnobs(). */
  readonly knobs?: Partial<Knobs>;
}

interface InFlight {
  readonly message: Message;
  /** The receiver's incarnation at send time: a restart in between loses the message. */
  readonly incarnation: number;
  /** On the hop clock (HOP_US per hop): when it arrives, which orders a hop's deliveries. */
  readonly arrivalUs: number;
  readonly sequence: number;
}

interface PendingSync {
  readonly node: TestNode;
  readonly syncId: number;
  readonly incarnation: number;
  readonly arrivalUs: number;
  readonly sequence: number;
}

export interface FaultStats {
  /** Crashes that tore unsynced writes (the kernel disk's count). */
  tornCrashes: number;
  /** Recoveries that found a torn tail on the log and cut it. */
  tornTails: number;
  /** Recoveries that found the snapshot file ahead of the log. */
  logsBehindSnapshot: number;
  fsyncErrors: number;
  duplicates: number;
  drops: number;
  pauses: number;
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
  readonly nodes = new Map<NodeId, TestNode>();
  readonly random: Random;
  readonly network: Network;
  readonly knobs: Knobs;
  readonly ids: NodeId[];
  readonly events: Array<{ node: NodeId; event: RaftEvent }> = [];
  /** term -> leader elected in it (checked: never two). */
  readonly leaders = new Map<number, NodeId>();
  /** index -> command applied there by anyone (checked: all agree). */
  readonly appliedAt = new Map<number, string>();
  readonly violations: string[] = [];
  readonly stats: FaultStats = {
    tornCrashes: 0,
    tornTails: 0,
    logsBehindSnapshot: 0,
    fsyncErrors: 0,
    duplicates: 0,
    drops: 0,
    pauses: 0,
  };
  /** True time: a tick period per tickAll(). */
  nowUs = 0;
  messagesSent = 0;
  /** Optional filter at delivery: return false to drop a message. */
  filter: ((m: Message) => boolean) | null = null;
  private hop = 0;
  private sequence = 0;
  private inflight: InFlight[] = [];
  private syncs: PendingSync[] = [];
  private readonly votes = new Map<string, NodeId>();
  private readonly options: ClusterOptions;

  constructor(options: ClusterOptions) {
    this.options = options;
    this.random = Random.fromSeed(options.seed);
    this.knobs = testKnobs(options.knobs);
    this.network = new Network(NETWORK_SIZE, this.knobs, this.random.fork('network'));
    this.ids = [...(options.ids ?? Array.from({ length: options.size }, (_, i) => i + 1))];
    for (const id of this.ids) {
      this.addNode(id, this.ids);
    }
  }

  /** The core's configuration on `id`, with a random stream of the node's current incarnation. */
  configFor(id: NodeId, voters: readonly NodeId[]): RaftConfig {
    const node = this.node(id);
    const stream = node.slot.random.fork(`incarnation:${node.slot.incarnation}`);
    const durationUs = this.options.leaseDurationUs;
    const lease =
      durationUs === undefined
        ? {}
        : { lease: { durationUs, clockUs: () => node.slot.monotonicTimeUs(this.nowUs) } };
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
      ...lease,
      ...this.options.config,
      bugs: new Set(this.options.bugs ?? []),
      randomInt: (max) => stream.int(max),
    };
  }

  /** A node with an empty disk, booted with `voters` as its bootstrap configuration. */
  addNode(id: NodeId, voters: readonly NodeId[]): TestNode {
    assert(!this.nodes.has(id), `node ${id} exists`);
    assert(Number.isInteger(id) && id >= 0 && id < NETWORK_SIZE, 'node ids index the network');
    const disk = new Disk(this.random.fork(`disk:${id}`));
    const slot = new NodeSlot(id, `n${id}`, 'servers', idle, disk, this.random.fork(`node:${id}`));
    const node = new TestNode(id, slot);
    disk.scheduler = { scheduleSync: (syncId) => this.scheduleSync(node, syncId) };
    this.nodes.set(id, node);
    if (!this.ids.includes(id)) {
      this.ids.push(id);
    }
    this.boot(node, voters);
    return node;
  }

  node(id: NodeId): TestNode {
    const node = this.nodes.get(id);
    assert(node !== undefined, `no node ${id}`);
    return node;
  }

  core(id: NodeId): RaftCore {
    return this.node(id).core;
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Cuts every link between the groups (both directions); replaces any earlier partition. */
  partition(...groups: NodeId[][]): void {
    const links: Link[] = [];
    groups.forEach((a, index) => {
      for (const b of groups.slice(index + 1)) {
        links.push(...cutBetween(a, b));
      }
    });
    this.network.partition(links);
  }

  /** A partition in one of the kernel's shapes over every node. */
  partitionShape(shape: PartitionShape, random: Random): void {
    this.network.partition(partitionLinks(shape, this.ids, this.ids, random));
  }

  isolate(id: NodeId): void {
    this.partition(
      [id],
      this.ids.filter((x) => x !== id),
    );
  }

  heal(): void {
    this.network.heal();
  }

  /**
   * Power loss: the node's memory, timers and unsynced writes are gone — or, when the crash
   * tears (knobs.tornWriteProbability, or `tear`), some unsynced sectors land and some do not.
   */
  crash(id: NodeId, tear?: boolean): void {
    const node = this.node(id);
    if (!node.up) {
      return;
    }
    const torn = tear ?? node.slot.random.chance(this.knobs.tornWriteProbability);
    node.slot.up = false;
    node.slot.paused = false;
    node.slot.incarnation++; // what was in flight to it, or its fsyncs, is now stale
    node.forgetPersisting();
    const before = node.disk.stats.tornCrashes;
    node.disk.crash(torn);
    this.stats.tornCrashes += node.disk.stats.tornCrashes - before; // it had unsynced writes
  }

  /** Boots a crashed node from its disk, with the voters its last incarnation knew. */
  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.up) {
      return;
    }
    this.boot(node, node.core.voters);
  }

  /** The node stops handling anything for `durationUs` (a GC pause); its clocks run on. */
  pause(id: NodeId, durationUs: number): void {
    const node = this.node(id);
    if (!node.up || node.slot.paused) {
      return;
    }
    node.slot.paused = true;
    node.pausedUntilUs = this.nowUs + durationUs;
    this.stats.pauses++;
  }

  /** From now on the node's clocks run at 1 + driftPpm / 10^6 of true time. */
  drift(id: NodeId, driftPpm: number): void {
    this.node(id).slot.changeRate(this.nowUs, driftPpm);
  }

  /** The next fsync on this node fails (as on Linux, its pages are dropped): the process exits. */
  failNextFsync(id: NodeId): void {
    this.node(id).disk.armFsyncError();
  }

  /** Replaces the node's disk contents with `restored` (made durable) and boots from it. */
  bootFrom(id: NodeId, restored: RestoredState): void {
    this.crash(id, false);
    this.node(id).writeLog(restored);
    this.restart(id);
  }

  // ---- boot and recovery --------------------------------------------------------------------

  private boot(node: TestNode, voters: readonly NodeId[]): void {
    const { restored, tornTail, logBehindSnapshot } = node.recover();
    this.stats.tornTails += tornTail ? 1 : 0;
    this.stats.logsBehindSnapshot += logBehindSnapshot ? 1 : 0;
    node.slot.up = true;
    node.slot.paused = false;
    node.restartAtUs = -1;
    node.nextTickUs = this.nowUs + node.slot.trueDelayUs(TICK_US);
    node.core = new RaftCore(this.configFor(node.id, voters), restored);
    node.applied = new Map();
    node.lastApplied = 0;
    if (restored.snapshotData !== undefined && restored.snapshotMeta.lastIncludedIndex > 0) {
      this.applySnapshot(node, restored.snapshotData, restored.snapshotMeta.lastIncludedIndex);
    }
  }

  // ---- driving ------------------------------------------------------------------------------

  leader(): NodeId | null {
    let best: TestNode | null = null;
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

  /** A tick period passes: supervisors restart, pauses end, each node ticks by its clock. */
  tickAll(): void {
    this.nowUs += TICK_US;
    for (const id of this.ids) {
      const node = this.node(id);
      if (!node.up && node.restartAtUs >= 0 && node.restartAtUs <= this.nowUs) {
        this.restart(id);
      }
      if (node.up && node.slot.paused && node.pausedUntilUs <= this.nowUs) {
        node.slot.paused = false; // its held tick fires now, once; held messages next hop
        node.nextTickUs = this.nowUs;
      }
      while (node.up && !node.slot.paused && node.nextTickUs <= this.nowUs) {
        node.core.tick();
        node.nextTickUs += node.slot.trueDelayUs(TICK_US);
      }
    }
    this.flush();
  }

  /** Runs every node until it is idle or waits for an fsync still in progress. */
  flush(): void {
    for (let round = 0; round < FLUSH_ROUNDS_MAX; round++) {
      let any = false;
      for (const id of this.ids) {
        any = this.drainNode(this.node(id)) || any;
      }
      any = this.completeSyncs(this.hop) || any;
      if (!any) {
        return;
      }
    }
  }

  /** Takes the node's next Ready: persists it and starts its fsync, or hands it out. */
  private drainNode(node: TestNode): boolean {
    if (!node.up || node.slot.paused) {
      return false;
    }
    const taken = node.takeReady();
    if (typeof taken === 'boolean') {
      return taken;
    }
    this.handOut(node, taken);
    return true;
  }

  private scheduleSync(node: TestNode, syncId: number): void {
    const { fsyncLatencyMinUs, fsyncLatencyMaxUs } = this.knobs;
    const latencyUs = node.slot.random.between(fsyncLatencyMinUs, fsyncLatencyMaxUs);
    this.syncs.push({
      node,
      syncId,
      incarnation: node.slot.incarnation,
      arrivalUs: this.hop * HOP_US + latencyUs,
      sequence: this.sequence++,
    });
  }

  /** Completes the fsyncs due by the end of `hop` whose nodes are up and not paused. */
  private completeSyncs(hop: number): boolean {
    const due: PendingSync[] = [];
    const later: PendingSync[] = [];
    for (const sync of this.syncs) {
      const live = sync.node.up && sync.node.slot.incarnation === sync.incarnation;
      if (!live) {
        continue; // the crash took it
      }
      const ready = Math.floor(sync.arrivalUs / HOP_US) <= hop && !sync.node.slot.paused;
      (ready ? due : later).push(sync);
    }
    this.syncs = later;
    due.sort(byArrival);
    for (const sync of due) {
      if (sync.node.up && sync.node.slot.incarnation === sync.incarnation) {
        this.onSynced(sync.node, sync.syncId, sync.node.disk.completeSync(sync.syncId));
      }
    }
    return due.length > 0;
  }

  private onSynced(node: TestNode, syncId: number, ok: boolean): void {
    if (!ok) {
      // Like the adapter (and PostgreSQL): after a failed fsync the process exits.
      this.stats.fsyncErrors++;
      this.crash(node.id, false);
      node.restartAtUs = this.nowUs + SUPERVISOR_RESTART_US;
      return;
    }
    const durable = node.synced(syncId);
    if (durable !== null) {
      this.handOut(node, durable);
    }
  }

  /** Everything in the Ready is durable: send, apply, answer, observe, advance. */
  private handOut(node: TestNode, ready: Ready): void {
    for (const message of ready.messages) {
      this.send(message);
    }
    if (ready.snapshotToApply !== undefined) {
      const { data, meta } = ready.snapshotToApply;
      this.applySnapshot(node, data, meta.lastIncludedIndex);
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
  }

  private maybeCompact(node: TestNode): void {
    const every = this.options.snapshotEvery ?? 0;
    const core = node.core;
    if (every === 0 || core.appliedIndex - core.snapshotMeta.lastIncludedIndex < every) {
      return;
    }
    const index = core.appliedIndex;
    const pairs = [...node.applied.entries()].filter(([i]) => i <= index);
    core.compact(index, bytes(JSON.stringify(pairs)));
  }

  // ---- the network --------------------------------------------------------------------------

  private send(message: Message): void {
    this.messagesSent++;
    const network = this.network;
    network.count(message.from, message.to, 64);
    if (network.isCut(message.from, message.to)) {
      return;
    }
    if (network.shouldDrop()) {
      this.stats.drops++;
      return;
    }
    this.enqueue(message);
    if (network.shouldDuplicate()) {
      this.stats.duplicates++;
      this.enqueue(message);
    }
  }

  private enqueue(message: Message): void {
    const incarnation = this.nodes.get(message.to)?.slot.incarnation ?? 0;
    // It leaves in this hop and arrives in a later one.
    const arrivalUs = (this.hop + 1) * HOP_US + this.network.delayUs();
    this.inflight.push({ message, incarnation, arrivalUs, sequence: this.sequence++ });
  }

  /** One hop: the messages and fsyncs due arrive, in arrival order; then every node runs. */
  deliverAll(): void {
    this.hop++;
    const due: InFlight[] = [];
    const later: InFlight[] = [];
    for (const item of this.inflight) {
      const held = this.nodes.get(item.message.to)?.slot.paused === true;
      (Math.floor(item.arrivalUs / HOP_US) <= this.hop && !held ? due : later).push(item);
    }
    this.inflight = later;
    due.sort(byArrival);
    this.completeSyncs(this.hop); // slow fsyncs that finish in this hop, first
    for (const item of due) {
      this.deliver(item);
    }
    this.flush();
  }

  private deliver(item: InFlight): void {
    const m = item.message;
    const to = this.nodes.get(m.to);
    if (to === undefined || !to.up || to.slot.incarnation !== item.incarnation) {
      return;
    }
    if (this.network.isCut(m.from, m.to)) {
      return;
    }
    if (this.filter !== null && !this.filter(m)) {
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

  /** Messages in flight (sent and not yet delivered or lost). */
  pending(): readonly Message[] {
    return this.inflight.map((item) => item.message);
  }

  clearInflight(): void {
    this.inflight = [];
  }

  // ---- online checks ------------------------------------------------------------------------

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

  private applyEntry(node: TestNode, entry: Entry): void {
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

  private applySnapshot(node: TestNode, data: Uint8Array, index: number): void {
    const pairs = JSON.parse(text(data)) as Array<[number, string]>;
    node.applied = new Map(pairs);
    for (const [i, value] of pairs) {
      this.checkApply(node.id, i, value);
    }
    node.lastApplied = index;
  }
}

/** A node program that does nothing: the slot's program is the test, not the kernel. */
function idle() {
  return programOf({});
}

function byArrival(a: { arrivalUs: number; sequence: number }, b: typeof a): number {
  return a.arrivalUs - b.arrivalUs || a.sequence - b.sequence;
}

/** A restored state with no snapshot: `entries` after a hard state of `term`, commit 1. */
export function restoredLog(term: number, entries: Entry[], commit = 1): RestoredState {
  const snapshotMeta: SnapshotMeta = { lastIncludedIndex: 0, lastIncludedTerm: 0, voters: [] };
  return { hardState: { term, vote: null, commit }, snapshotMeta, entries };
}
