// The simulator: one thread, one event queue, virtual time in integer microseconds. It runs a
// plan: boots the nodes, applies faults and script steps at their times, delivers messages
// and timers, and checks invariants. Its remaining randomness (each message's delay, which
// sector tears) comes from named streams split from the seed.
import { AssertionError, assert, fail } from './assert.ts';
import { Disk, DiskReadError, ProcessExit } from './disk.ts';
import { guarded, realNow } from './guard.ts';
import { Logger, type LogSink } from './log.ts';
import { Network } from './network.ts';
import { EventKind, EventQueue, SimEvent } from './queue.ts';
import { Random } from './random.ts';
import { type Budgets, groupProgram, type Scenario, topologyMismatch } from './scenario.ts';
import { planShape } from './shape.ts';
import { Topology } from './topology.ts';
import { digestValue, TraceHash } from './trace.ts';
import type { TraceRecorder } from './trace-log.ts';
import {
  type ClusterView,
  CRASH_LOOP_WINDOW_US,
  type FaultEvent,
  type FiredKind,
  HARNESS,
  type HistoryOperation,
  type Invariant,
  type InvokeOptions,
  type Message,
  type NodeContext,
  type NodeId,
  type NodeProgram,
  type Observation,
  type ObservationRecord,
  type Outcome,
  type PartitionShape,
  type Phase,
  type Plan,
  type ProgramFactory,
  type RunResult,
  type RunStats,
  type Violation,
} from './types.ts';

export const CHECKPOINT_EVERY = 1000;
// Module-local copies: imported bindings are read through getters on every access, and
// these sit on the hottest path.
const DELIVER = EventKind.Deliver;
const TIMER = EventKind.Timer;
const SYNCED = EventKind.Synced;
const FAULT = EventKind.Fault;
const SCRIPT = EventKind.Script;
const RESUME = EventKind.Resume;
const SETTLE = EventKind.Settle;
const FROM_HARNESS = HARNESS;
const digestOf = digestValue;
const DEFAULT_BUDGETS: Budgets = { eventsMax: 5_000_000, wallMsMax: 60_000 };
const QUEUE_CAPACITY_MAX = 4_000_000;
const OBSERVATIONS_MAX = 2_000_000;
const OBSERVATION_TYPES_MAX = 4096;
/** A replayed packet arrives this long after the original would have (0.1–5 s). */
const REPLAY_DELAY_US_MIN = 100_000;
const REPLAY_DELAY_US_MAX = 5_000_000;
const WALL_CHECK_EVERY = 4096;
/** A process that dies on an unhandled I/O error is restarted by its supervisor after this. */
const SUPERVISOR_RESTART_US = 50_000;

export interface RunOptions {
  budgets?: Partial<Budgets>;
  /** Stop after this many events (replay --until). */
  untilEvent?: number;
  logSink?: LogSink;
  trace?: TraceRecorder;
}

export class NodeSlot {
  up = false;
  paused = false;
  incarnation = 0;
  program: NodeProgram | null = null;
  context: SimContext | null = null;
  /** Wall clock minus true time: clock jumps and drift accumulated before the last rate change. */
  clockOffsetUs = 0;
  /** The monotonic clock's offset: drift accumulated before the last rate change, never jumps. */
  monotonicOffsetUs = 0;
  clockDriftPpm = 0;
  clockDriftSinceUs = 0;
  /** When the node last restarted after a crash (never: -Infinity), to count crash loops. */
  restartedAtUs = Number.NEGATIVE_INFINITY;
  readonly liveTimers = new Set<number>();
  readonly pausedEvents: SimEvent[] = [];

  constructor(
    readonly id: NodeId,
    readonly name: string,
    readonly group: string,
    readonly makeProgram: ProgramFactory,
    readonly disk: Disk,
    readonly random: Random,
  ) {}

  localTimeUs(trueUs: number): number {
    return trueUs + this.clockOffsetUs + this.driftSinceRateChangeUs(trueUs);
  }

  /** The node's monotonic clock: it runs at the node's clock rate but never jumps. */
  monotonicTimeUs(trueUs: number): number {
    return trueUs + this.monotonicOffsetUs + this.driftSinceRateChangeUs(trueUs);
  }

  /** From trueUs on, both clocks run at 1 + driftPpm / 10^6 of true time. */
  changeRate(trueUs: number, driftPpm: number): void {
    this.clockOffsetUs = this.localTimeUs(trueUs) - trueUs;
    this.monotonicOffsetUs = this.monotonicTimeUs(trueUs) - trueUs;
    this.clockDriftSinceUs = trueUs;
    this.clockDriftPpm = driftPpm;
  }

  private driftSinceRateChangeUs(trueUs: number): number {
    return Math.trunc(((trueUs - this.clockDriftSinceUs) * this.clockDriftPpm) / 1_000_000);
  }

  /** Converts a delay on this node's clock into true time. */
  trueDelayUs(localDelayUs: number): number {
    if (this.clockDriftPpm === 0) {
      return localDelayUs;
    }
    return Math.ceil((localDelayUs * 1_000_000) / (1_000_000 + this.clockDriftPpm));
  }
}

class StopRun extends Error {}

/** The plan names a group its scenario does not declare (an edited or foreign plan). */
export class TopologyError extends Error {
  override name = 'TopologyError';
}

export class Simulation {
  readonly plan: Plan;
  readonly scenario: Scenario;
  readonly topology: Topology;
  readonly nodes: NodeSlot[];
  readonly network: Network;
  private readonly queue = new EventQueue(QUEUE_CAPACITY_MAX);
  private readonly hash = new TraceHash();
  private readonly checkpoints: [number, string][] = [];
  private readonly invariants: Invariant[];
  /** The invariants that check observations as they come, in declaration order. */
  private readonly observers: Invariant[];
  /** Per observation type, the observers that read it (see Invariant.observes), in order. */
  private readonly observersByType = new Map<string, Invariant[]>();
  private readonly observations: ObservationRecord[] = [];
  private readonly history: HistoryOperation[] = [];
  private readonly sometimesReached = new Set<string>();
  private readonly sometimesPending: [string, (record: ObservationRecord) => boolean][];
  private readonly undecided: RunResult['undecided'] = [];
  private readonly faultsFired: Partial<Record<FiredKind, number>> = {};
  private readonly partitionShapes: Partial<Record<PartitionShape, number>> = {};
  private readonly buggifyActive = new Map<string, boolean>();
  private readonly buggifyRandom: Random;
  /** Its own stream: which duplicates arrive late never shifts the network's draws. */
  private readonly replayRandom: Random;
  private readonly budgets: Budgets;
  private readonly logger: Logger;
  private readonly trace: TraceRecorder | undefined;
  private readonly untilEvent: number;
  private sequence = 0;
  private nextTimerId = 1;
  nowUs = 0;
  eventIndex = 0;
  phase: Phase = 'faults';
  private violation: Violation | undefined;
  private outcome: Outcome = 'pass';
  readonly stats: RunStats = {
    events: 0,
    virtualTimeUs: 0,
    wallMs: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    messagesDropped: 0,
    messagesDuplicated: 0,
    bytesSent: 0,
    timersFired: 0,
    crashes: 0,
    restarts: 0,
    fsyncs: 0,
    observations: 0,
    operations: 0,
  };
  readonly view: ClusterView;

  constructor(scenario: Scenario, plan: Plan, options: RunOptions = {}) {
    assert(plan.scenario === scenario.name, 'the plan belongs to another scenario');
    this.plan = plan;
    this.scenario = scenario;
    this.sometimesPending = Object.entries(scenario.sometimes ?? {});
    const root = Random.fromSeed(plan.seed);
    this.topology = new Topology(plan.groups);
    const total = this.topology.size;
    const mismatch = topologyMismatch(scenario, plan);
    if (mismatch !== undefined) {
      throw new TopologyError(mismatch);
    }
    const programs = new Map<string, ProgramFactory>();
    for (const group of plan.groups) {
      programs.set(group.name, groupProgram(scenario, group.name) as ProgramFactory);
    }
    this.nodes = [];
    for (let id = 0; id < total; id++) {
      const group = this.topology.groupOf(id);
      const disk = new Disk(root.fork(`disk:${id}`));
      disk.readCorruptionProbability = plan.knobs.readCorruptionProbability;
      const program = programs.get(group) as ProgramFactory;
      const name = this.topology.name(id);
      const slot = new NodeSlot(id, name, group, program, disk, root.fork(`node:${id}`));
      disk.scheduler = { scheduleSync: (syncId) => this.scheduleSync(slot, syncId) };
      disk.onMisdirected = (where) => {
        this.fired('misdirected-write');
        this.trace?.mediaFault(this, slot.id, 'misdirected-write', where);
      };
      this.nodes.push(slot);
    }
    this.network = new Network(total, plan.knobs, root.fork('network'));
    this.buggifyRandom = root.fork('buggify');
    this.replayRandom = root.fork('replay');
    this.budgets = { ...DEFAULT_BUDGETS, ...scenario.budgets, ...options.budgets };
    this.logger = new Logger(options.logSink);
    this.trace = options.trace;
    this.untilEvent = options.untilEvent ?? Number.POSITIVE_INFINITY;
    this.invariants = scenario.invariants(plan);
    this.observers = this.invariants.filter((invariant) => invariant.onObservation !== undefined);
    this.view = this.makeView();
  }

  /** Runs the plan to its end (or to a violation or budget) under the determinism guard. */
  run(): RunResult {
    const wallStartMs = realNow();
    guarded(() => this.runGuarded(wallStartMs));
    this.stats.wallMs = realNow() - wallStartMs;
    return this.result();
  }

  private runGuarded(wallStartMs: number): void {
    try {
      this.schedulePlan();
      for (const slot of this.nodes) {
        this.boot(slot);
      }
      this.loop(wallStartMs);
      if (this.violation === undefined && this.eventIndex < this.untilEvent) {
        this.nowUs = this.plan.durationUs + this.plan.settleUs;
        this.checkAtEnd();
      }
    } catch (error) {
      if (!(error instanceof StopRun)) {
        throw error;
      }
    }
  }

  private schedulePlan(): void {
    this.plan.faults.forEach((fault, index) => {
      this.push(fault.atUs, FAULT, -1, 0, -1, index, null, 0);
    });
    this.plan.script.forEach((step, index) => {
      this.push(step.atUs, SCRIPT, -1, 0, -1, index, null, 0);
    });
    this.push(this.plan.durationUs, SETTLE, -1, 0, -1, 0, null, 0);
  }

  private loop(wallStartMs: number): void {
    const endUs = this.plan.durationUs + this.plan.settleUs;
    const queue = this.queue;
    for (;;) {
      const next = queue.peek();
      if (next === undefined || next.timeUs > endUs) {
        return;
      }
      queue.pop();
      this.nowUs = next.timeUs;
      if (!this.dispatch(next)) {
        continue;
      }
      this.eventIndex++;
      this.hash.add(next.timeUs, next.kind, next.node, next.digest);
      if (this.eventIndex % CHECKPOINT_EVERY === 0) {
        this.checkpoints.push([this.eventIndex, this.hash.hex()]);
      }
      if (this.violation !== undefined || this.eventIndex >= this.untilEvent) {
        return;
      }
      if (this.eventIndex >= this.budgets.eventsMax) {
        this.exceed(`the run exceeded its budget of ${this.budgets.eventsMax} events`);
        return;
      }
      if (
        this.eventIndex % WALL_CHECK_EVERY === 0 &&
        realNow() - wallStartMs > this.budgets.wallMsMax
      ) {
        this.exceed(`the run exceeded its wall-clock budget of ${this.budgets.wallMsMax} ms`);
        return;
      }
    }
  }

  private exceed(message: string): void {
    this.outcome = 'budget';
    this.violation = {
      invariant: 'budget',
      timeUs: this.nowUs,
      eventIndex: this.eventIndex,
      message,
    };
  }

  /** Handles one event; returns false when it was stale (a dead incarnation's) and skipped. */
  private dispatch(event: SimEvent): boolean {
    switch (event.kind) {
      case DELIVER:
        return this.deliver(event);
      case TIMER:
        return this.fireTimer(event);
      case SYNCED:
        return this.completeSync(event);
      case FAULT:
        return this.applyFault(event.id);
      case SCRIPT:
        return this.runScriptStep(event.id);
      case RESUME:
        return this.resume(event);
      case SETTLE:
        this.settle();
        return true;
      default:
        throw new AssertionError(`unknown event kind ${event.kind}`);
    }
  }

  // --- scheduling -------------------------------------------------------------------------

  push(
    timeUs: number,
    kind: EventKind,
    node: number,
    incarnation: number,
    from: number,
    id: number,
    payload: unknown,
    digest: number,
  ): SimEvent {
    assert(Number.isSafeInteger(timeUs) && timeUs >= this.nowUs, 'events cannot go back in time');
    const event = new SimEvent(
      timeUs,
      this.sequence++,
      kind,
      node,
      incarnation,
      from,
      id,
      payload,
      digest,
    );
    this.queue.push(event);
    return event;
  }

  /** A paused node's events wait for it; returns true when the event was set aside. */
  private heldForPause(slot: NodeSlot, event: SimEvent): boolean {
    if (!slot.paused) {
      return false;
    }
    assert(slot.pausedEvents.length < QUEUE_CAPACITY_MAX, 'too many events held for a pause');
    slot.pausedEvents.push(event);
    return true;
  }

  private live(slot: NodeSlot, event: SimEvent): boolean {
    return slot.up && slot.incarnation === event.incarnation;
  }

  // --- messages ---------------------------------------------------------------------------

  send(slot: NodeSlot, to: NodeId, message: Message, sizeBytes: number): void {
    if (!(to >= 0 && to < this.nodes.length)) {
      fail(`send to unknown node ${to}`);
    }
    assert(typeof message.type === 'string', 'a message needs a type');
    assert(Number.isSafeInteger(sizeBytes) && sizeBytes >= 0, 'message size must be an integer');
    const target = this.nodes[to] as NodeSlot;
    const network = this.network;
    this.stats.messagesSent++;
    this.stats.bytesSent += sizeBytes;
    network.count(slot.id, to, sizeBytes);
    const messageId = this.stats.messagesSent;
    this.trace?.send(this, slot.id, to, messageId, message, sizeBytes);
    if (network.isCut(slot.id, to)) {
      this.dropped(messageId, slot.id, to, 'partition');
      return;
    }
    if (network.shouldDrop()) {
      this.fired('drop');
      this.dropped(messageId, slot.id, to, 'drop');
      return;
    }
    const digest = digestOf(message);
    this.push(
      this.nowUs + network.delayUs(),
      DELIVER,
      to,
      target.incarnation,
      slot.id,
      messageId,
      message,
      digest,
    );
    if (network.shouldDuplicate()) {
      this.fired('duplicate');
      this.stats.messagesDuplicated++;
      this.trace?.duplicate(this, slot.id, to, messageId);
      let delay = network.delayUs();
      const replayProbability = this.plan.knobs.replayProbability ?? 0;
      if (replayProbability > 0 && this.replayRandom.chance(replayProbability)) {
        this.fired('replay');
        delay += this.replayRandom.between(REPLAY_DELAY_US_MIN, REPLAY_DELAY_US_MAX);
      }
      this.push(
        this.nowUs + delay,
        DELIVER,
        to,
        target.incarnation,
        slot.id,
        messageId,
        message,
        digest,
      );
    }
  }

  private dropped(messageId: number, from: number, to: number, reason: string): void {
    this.stats.messagesDropped++;
    this.trace?.drop(this, from, to, messageId, reason);
  }

  private deliver(event: SimEvent): boolean {
    const slot = this.nodes[event.node] as NodeSlot;
    if (!this.live(slot, event)) {
      this.dropped(event.id, event.from, event.node, slot.up ? 'restarted' : 'down');
      return false;
    }
    if (event.from !== FROM_HARNESS && this.network.isCut(event.from, event.node)) {
      this.dropped(event.id, event.from, event.node, 'partition');
      return false;
    }
    if (this.heldForPause(slot, event)) {
      return false;
    }
    this.stats.messagesDelivered++;
    this.trace?.deliver(this, event.from, event.node, event.id, event.payload as Message);
    const program = slot.program as NodeProgram;
    // try/catch inline on the three per-event paths, not guardNode(slot, closure): a closure
    // (and for fsyncs a bound function) per event.
    try {
      program.onMessage(event.from, event.payload as Message);
    } catch (error) {
      this.nodeThrew(slot, error);
    }
    return true;
  }

  // --- timers and fsync -------------------------------------------------------------------

  setTimer(slot: NodeSlot, delayUs: number, tag: string): number {
    assert(
      Number.isSafeInteger(delayUs) && delayUs >= 0,
      'a timer delay is a non-negative integer',
    );
    const timerId = this.nextTimerId++;
    slot.liveTimers.add(timerId);
    const trueDelay = slot.trueDelayUs(delayUs);
    this.push(this.nowUs + trueDelay, TIMER, slot.id, slot.incarnation, -1, timerId, tag, 0);
    return timerId;
  }

  private fireTimer(event: SimEvent): boolean {
    const slot = this.nodes[event.node] as NodeSlot;
    if (!this.live(slot, event) || !slot.liveTimers.has(event.id)) {
      return false;
    }
    if (this.heldForPause(slot, event)) {
      return false;
    }
    slot.liveTimers.delete(event.id);
    this.stats.timersFired++;
    const tag = event.payload as string;
    this.trace?.timer(this, slot.id, tag);
    const program = slot.program as NodeProgram;
    try {
      program.onTimer(tag, event.id);
    } catch (error) {
      this.nodeThrew(slot, error);
    }
    return true;
  }

  private scheduleSync(slot: NodeSlot, syncId: number): void {
    const knobs = this.plan.knobs;
    const latency = slot.random.between(knobs.fsyncLatencyMinUs, knobs.fsyncLatencyMaxUs);
    this.stats.fsyncs++;
    this.push(this.nowUs + latency, SYNCED, slot.id, slot.incarnation, -1, syncId, null, syncId);
  }

  private completeSync(event: SimEvent): boolean {
    const slot = this.nodes[event.node] as NodeSlot;
    if (!this.live(slot, event)) {
      return false;
    }
    if (this.heldForPause(slot, event)) {
      return false;
    }
    const ok = slot.disk.completeSync(event.id);
    if (!ok) {
      this.fired('fsync-error');
    }
    this.trace?.fsync(this, slot.id, event.id, ok);
    const program = slot.program as NodeProgram;
    if (program.onSynced !== undefined) {
      try {
        program.onSynced(event.id, ok);
      } catch (error) {
        this.nodeThrew(slot, error);
      }
    }
    return true;
  }

  // --- node lifecycle ---------------------------------------------------------------------

  private boot(slot: NodeSlot): void {
    if (slot.up) {
      fail(`${slot.name} is already up`);
    }
    slot.up = true;
    slot.paused = false;
    slot.incarnation++;
    const context = new SimContext(this, slot);
    slot.context = context;
    slot.program = slot.makeProgram(context);
    this.guardNode(slot, () => (slot.program as NodeProgram).onStart());
  }

  private crash(slot: NodeSlot, tear: boolean, reason: string): void {
    if (!slot.up) {
      return;
    }
    this.trace?.lifecycle(this, slot.id, 'crash', reason);
    slot.up = false;
    slot.paused = false;
    slot.pausedEvents.length = 0;
    slot.liveTimers.clear();
    slot.incarnation++; // everything scheduled for the old incarnation is now stale
    if (slot.context !== null) {
      slot.context.dead = true;
    }
    slot.context = null;
    slot.program = null;
    slot.disk.crash(tear);
    this.stats.crashes++;
  }

  private restart(slot: NodeSlot): void {
    if (slot.up) {
      return;
    }
    this.stats.restarts++;
    slot.restartedAtUs = this.nowUs;
    this.trace?.lifecycle(this, slot.id, 'restart', '');
    this.boot(slot);
  }

  /** Runs a node's handler; an I/O error or exit kills the process, anything else is a bug. */
  private guardNode(slot: NodeSlot, body: () => void): void {
    try {
      body();
    } catch (error) {
      this.nodeThrew(slot, error);
    }
  }

  /** What guardNode does with what a node's handler threw. */
  private nodeThrew(slot: NodeSlot, error: unknown): void {
    if (error instanceof StopRun) {
      throw error;
    }
    if (error instanceof DiskReadError || error instanceof ProcessExit) {
      this.log(slot, 'process died', { error: error.message });
      this.crash(slot, false, `died on ${error.message}`);
      const restartAt = this.nowUs + SUPERVISOR_RESTART_US;
      this.push(restartAt, FAULT, -1, 0, -1, -1 - slot.id, null, 0);
      return;
    }
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.report(
      {
        invariant: 'no-exception',
        timeUs: this.nowUs,
        eventIndex: this.eventIndex,
        message: `${slot.name} threw ${text}`,
        node: slot.id,
      },
      'error',
    );
  }

  private report(violation: Violation, outcome: Outcome): never {
    this.violation = violation;
    this.outcome = outcome;
    this.trace?.violation(this, violation);
    throw new StopRun();
  }

  private resume(event: SimEvent): boolean {
    const slot = this.nodes[event.node] as NodeSlot;
    if (!this.live(slot, event) || !slot.paused) {
      return false;
    }
    this.resumeNode(slot);
    return true;
  }

  private resumeNode(slot: NodeSlot): void {
    slot.paused = false;
    this.trace?.lifecycle(this, slot.id, 'resume', '');
    const held = slot.pausedEvents.splice(0);
    for (const event of held) {
      // Caught up in arrival order, at the moment the pause ends.
      this.push(
        this.nowUs,
        event.kind,
        event.node,
        event.incarnation,
        event.from,
        event.id,
        event.payload,
        event.digest,
      );
    }
  }

  // --- faults, script and settle ----------------------------------------------------------

  private applyFault(index: number): boolean {
    if (index < 0) {
      // A supervisor restart after a process died on an I/O error.
      this.restart(this.nodes[-1 - index] as NodeSlot);
      return true;
    }
    if (this.phase === 'settle') {
      return false;
    }
    const fault = this.plan.faults[index] as FaultEvent;
    this.trace?.fault(this, fault);
    switch (fault.kind) {
      case 'partition':
        this.network.partition(fault.links);
        this.fired('partition');
        this.partitionShapes[fault.shape] = (this.partitionShapes[fault.shape] ?? 0) + 1;
        return true;
      case 'heal':
        this.network.heal();
        return true;
      default:
        return this.applyNodeFault(fault);
    }
  }

  private applyNodeFault(fault: Exclude<FaultEvent, { kind: 'partition' | 'heal' }>): boolean {
    const slot = this.nodes[fault.node] as NodeSlot;
    switch (fault.kind) {
      case 'crash': {
        const tear = slot.random.chance(this.plan.knobs.tornWriteProbability);
        if (slot.up) {
          this.fired('crash');
          if (this.nowUs - slot.restartedAtUs <= CRASH_LOOP_WINDOW_US) {
            this.fired('crash-loop');
          }
          if (tear) {
            this.fired('torn-write');
          }
        }
        this.crash(slot, tear, tear ? 'crash (unsynced writes torn)' : 'crash');
        return true;
      }
      case 'restart':
        this.restart(slot);
        return true;
      case 'pause':
        if (slot.up && !slot.paused) {
          this.fired('pause');
          slot.paused = true;
          this.push(
            this.nowUs + fault.durationUs,
            RESUME,
            slot.id,
            slot.incarnation,
            -1,
            0,
            null,
            0,
          );
        }
        return true;
      case 'clock-jump':
        this.fired('clock');
        slot.clockOffsetUs += fault.deltaUs;
        return true;
      case 'clock-drift':
        this.fired('clock');
        slot.changeRate(this.nowUs, fault.driftPpm);
        return true;
      case 'latent-sector':
        if (slot.disk.armLatentSectorError()) {
          this.fired('latent-sector');
        }
        return true;
      case 'fsync-error':
        slot.disk.armFsyncError();
        return true;
      case 'bit-rot': {
        const rotted = slot.disk.rotSyncedSector();
        if (rotted !== undefined) {
          this.fired('bit-rot');
          this.trace?.mediaFault(this, slot.id, 'bit-rot', rotted);
        }
        return true;
      }
      case 'misdirected-write':
        // Fired when it lands (Disk.onMisdirected), at the node's next fsync with a sector to
        // misdirect; one armed in the fault phase and not landed by the settle phase never does.
        slot.disk.armMisdirectedWrite();
        return true;
    }
  }

  private runScriptStep(index: number): boolean {
    const step = this.plan.script[index];
    if (step === undefined) {
      fail(`no script step ${index}`);
    }
    if (step.kind === 'inject') {
      const slot = this.nodes[step.node] as NodeSlot;
      if (!slot.up) {
        return false;
      }
      const digest = digestOf(step.message);
      this.push(
        this.nowUs,
        DELIVER,
        step.node,
        slot.incarnation,
        FROM_HARNESS,
        0,
        step.message,
        digest,
      );
      return true;
    }
    const check = this.scenario.checks?.[step.check];
    if (check === undefined) {
      fail(`the scenario has no check named ${step.check}`);
    }
    const verdict = check(this.view);
    if (verdict !== undefined) {
      this.report(
        {
          invariant: `check:${step.check}`,
          timeUs: this.nowUs,
          eventIndex: this.eventIndex,
          message: verdict,
        },
        'violation',
      );
    }
    return true;
  }

  /** Faults stop, the network heals, crashed nodes restart: liveness is judged after this. */
  private settle(): void {
    this.phase = 'settle';
    this.trace?.lifecycle(this, -1, 'settle', '');
    this.network.calm();
    for (const slot of this.nodes) {
      slot.disk.readCorruptionProbability = 0;
      slot.disk.disarmMisdirectedWrite();
      if (slot.paused) {
        this.resumeNode(slot);
      }
      if (!slot.up) {
        this.restart(slot);
      }
    }
  }

  fired(kind: FiredKind): void {
    this.faultsFired[kind] = (this.faultsFired[kind] ?? 0) + 1;
  }

  // --- observations, history, invariants --------------------------------------------------

  observe(slot: NodeSlot, observation: Observation): void {
    assert(typeof observation.type === 'string', 'an observation needs a type');
    assert(this.observations.length < OBSERVATIONS_MAX, 'too many observations in one run');
    const record: ObservationRecord = {
      node: slot.id,
      timeUs: this.nowUs,
      eventIndex: this.eventIndex,
      observation,
    };
    this.observations.push(record);
    this.stats.observations++;
    this.trace?.observe(this, record);
    this.checkSometimes(record);
    const observers = this.observersOf(observation.type);
    for (let index = 0; index < observers.length; index++) {
      const invariant = observers[index] as Invariant;
      const verdict = (invariant.onObservation as NonNullable<Invariant['onObservation']>)(
        record,
        this.view,
      );
      if (verdict !== undefined) {
        this.report(
          {
            invariant: invariant.name,
            timeUs: this.nowUs,
            eventIndex: this.eventIndex,
            message: verdict,
            node: slot.id,
          },
          'violation',
        );
      }
    }
  }

  private observersOf(type: string): Invariant[] {
    let observers = this.observersByType.get(type);
    if (observers === undefined) {
      assert(this.observersByType.size < OBSERVATION_TYPES_MAX, 'too many observation types');
      observers = this.observers.filter(
        (invariant) => invariant.observes === undefined || invariant.observes.includes(type),
      );
      this.observersByType.set(type, observers);
    }
    return observers;
  }

  private checkSometimes(record: ObservationRecord): void {
    // Only the conditions not reached yet are asked; each leaves the list once reached.
    const pending = this.sometimesPending;
    for (let index = pending.length - 1; index >= 0; index--) {
      const [name, reached] = pending[index] as [string, (r: ObservationRecord) => boolean];
      if (reached(record)) {
        this.sometimesReached.add(name);
        pending.splice(index, 1);
      }
    }
  }

  private checkAtEnd(): void {
    for (const invariant of this.invariants) {
      if (invariant.atEnd === undefined) {
        continue;
      }
      const verdict = invariant.atEnd(this.view, this.observations);
      if (typeof verdict === 'object') {
        this.undecided.push({ invariant: invariant.name, reason: verdict.undecided });
      } else if (verdict !== undefined) {
        this.report(
          {
            invariant: invariant.name,
            timeUs: this.nowUs,
            eventIndex: this.eventIndex,
            message: verdict,
          },
          'violation',
        );
      }
    }
  }

  invoke(slot: NodeSlot, input: unknown, options?: InvokeOptions): number {
    const operation: HistoryOperation = {
      id: this.history.length,
      client: slot.id,
      input,
      callUs: this.nowUs,
    };
    if (options?.stream !== undefined) {
      operation.stream = options.stream;
    }
    this.history.push(operation);
    this.stats.operations++;
    this.trace?.invoke(this, operation);
    return operation.id;
  }

  complete(slot: NodeSlot, operationId: number, status: 'ok' | 'fail', output: unknown): void {
    const operation = this.history[operationId];
    if (operation === undefined) {
      fail(`no operation ${operationId}`);
    }
    assert(operation.client === slot.id, 'an operation completes on the client that invoked it');
    if (operation.returnUs !== undefined) {
      fail(`operation ${operationId} completed twice`);
    }
    operation.returnUs = this.nowUs;
    operation.status = status;
    operation.output = output;
    this.trace?.complete(this, operation);
  }

  buggify(slot: NodeSlot, label: string): boolean {
    const probability = this.plan.knobs.buggifyProbability;
    if (probability === 0 || this.phase === 'settle') {
      return false;
    }
    let active = this.buggifyActive.get(label);
    if (active === undefined) {
      // As in FoundationDB: a point is activated once per run, then fires now and then.
      active = this.buggifyRandom.chance(0.25);
      this.buggifyActive.set(label, active);
    }
    if (active && slot.random.chance(probability)) {
      this.fired('buggify');
      return true;
    }
    return false;
  }

  log(slot: NodeSlot, message: string, fields?: Record<string, unknown>): void {
    if (this.logger.enabled) {
      this.logger.write(this.nowUs, slot.name, message, fields);
    }
    this.trace?.log(this, slot.id, message, fields);
  }

  private makeView(): ClusterView {
    const simulation = this;
    const topology = this.topology;
    return {
      servers: topology.servers,
      clients: topology.clients,
      groups: topology.groups,
      members: (group) => topology.members(group),
      groupOf: (node) => topology.groupOf(node),
      get timeUs() {
        return simulation.nowUs;
      },
      get phase() {
        return simulation.phase;
      },
      isUp: (node) => (simulation.nodes[node] as NodeSlot).up,
      inspect: (node) => {
        const slot = simulation.nodes[node] as NodeSlot;
        return slot.up ? slot.program?.inspect?.() : undefined;
      },
      name: (node) =>
        node === FROM_HARNESS ? 'harness' : (simulation.nodes[node] as NodeSlot).name,
      history: this.history,
      get messagesSent() {
        return simulation.stats.messagesSent;
      },
      get bytesSent() {
        return simulation.stats.bytesSent;
      },
      fileSize: (node, file) => (simulation.nodes[node] as NodeSlot).disk.size(file),
      mediaFaults: (node) => (simulation.nodes[node] as NodeSlot).disk.mediaFaults(),
      storedDamage: (node) => (simulation.nodes[node] as NodeSlot).disk.storedDamage(),
      durableFile: (node, file) => (simulation.nodes[node] as NodeSlot).disk.durableImage(file),
    };
  }

  private result(): RunResult {
    this.stats.events = this.eventIndex;
    this.stats.virtualTimeUs = this.nowUs;
    const linkBytes: Record<string, number> = {};
    const size = this.nodes.length;
    for (let from = 0; from < size; from++) {
      for (let to = 0; to < size; to++) {
        const bytes = this.network.stats.bytes[from * size + to] as number;
        if (bytes > 0) {
          linkBytes[
            `${(this.nodes[from] as NodeSlot).name}->${(this.nodes[to] as NodeSlot).name}`
          ] = bytes;
        }
      }
    }
    if (this.network.tailHits > 0) {
      this.faultsFired['latency-tail'] = this.network.tailHits;
    }
    const corrupted = this.nodes.reduce((sum, slot) => sum + slot.disk.stats.corruptedReads, 0);
    if (corrupted > 0) {
      this.faultsFired['read-corruption'] = corrupted;
    }
    const result: RunResult = {
      outcome: this.outcome,
      traceHash: this.hash.hex(),
      checkpoints: this.checkpoints,
      stats: this.stats,
      faultsFired: this.faultsFired,
      partitionShapes: this.partitionShapes,
      sometimes: [...this.sometimesReached].sort(),
      undecided: this.undecided,
      linkBytes,
      history: this.history,
    };
    if (this.violation !== undefined) {
      result.violation = this.violation;
    }
    const shape = planShape(this.scenario.shape, this.plan);
    if (shape !== undefined) {
      result.shape = shape;
    }
    return result;
  }
}

/** A node's window on the world. A crashed incarnation's context is dead and refuses use. */
export class SimContext implements NodeContext {
  dead = false;
  readonly id: NodeId;
  readonly name: string;
  readonly group: string;
  readonly servers: readonly NodeId[];
  readonly clients: readonly NodeId[];
  readonly workload: Readonly<Record<string, string | number | boolean>>;
  readonly variant: string | null;
  readonly random: Random;
  readonly disk: Disk;
  readonly history: NodeContext['history'];

  constructor(
    private readonly simulation: Simulation,
    private readonly slot: NodeSlot,
  ) {
    const plan = simulation.plan;
    this.id = slot.id;
    this.name = slot.name;
    this.group = slot.group;
    this.servers = simulation.topology.servers;
    this.clients = simulation.topology.clients;
    this.workload = plan.workload;
    this.variant = plan.variant;
    this.random = slot.random.fork(`incarnation:${slot.incarnation}`);
    this.disk = slot.disk;
    this.history = {
      invoke: (input, options) => simulation.invoke(slot, input, options),
      complete: (operationId, status, output) =>
        simulation.complete(slot, operationId, status, output),
    };
  }

  members(group: string): readonly NodeId[] {
    return this.simulation.topology.members(group);
  }

  private alive(): void {
    if (this.dead) {
      fail(`${this.name} used its context after it crashed`);
    }
  }

  now(): number {
    return this.slot.localTimeUs(this.simulation.nowUs);
  }

  monotonic(): number {
    return this.slot.monotonicTimeUs(this.simulation.nowUs);
  }

  phase(): Phase {
    return this.simulation.phase;
  }

  send(to: NodeId, message: Message, sizeBytes = 64): void {
    this.alive();
    this.simulation.send(this.slot, to, message, sizeBytes);
  }

  setTimer(delayUs: number, tag: string): number {
    this.alive();
    return this.simulation.setTimer(this.slot, delayUs, tag);
  }

  cancelTimer(timerId: number): void {
    this.slot.liveTimers.delete(timerId);
  }

  log(message: string, fields?: Record<string, unknown>): void {
    this.simulation.log(this.slot, message, fields);
  }

  observe(observation: Observation): void {
    this.alive();
    this.simulation.observe(this.slot, observation);
  }

  buggify(label: string): boolean {
    return this.simulation.buggify(this.slot, label);
  }
}
