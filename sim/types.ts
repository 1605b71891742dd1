// The shapes every part of faultline shares: plans (pure data), node programs and their
// context, observations, invariants and run results. See ../shared/DESIGN.md.
import type { Disk } from './disk.ts';
import type { Random } from './random.ts';

/**
 * Index of a node in the run: nodes are numbered in the order of the plan's groups, each
 * group's members consecutively. Read a node's group from the topology, never from its id.
 */
export type NodeId = number;

/** A message between nodes. Treat as immutable once sent: duplicates share the object. */
export interface Message {
  readonly type: string;
  readonly [field: string]: unknown;
}

// ---------------------------------------------------------------------------------------
// Plans: everything random about a run that a person may want to edit. Plain data.

/** 2: the plan records its topology (groups of named nodes) instead of server/client counts. */
export const PLAN_FORMAT = 2;

export const FAULT_KINDS = [
  'partition',
  'crash',
  'pause',
  'clock',
  'drop',
  'duplicate',
  'latency-tail',
  'torn-write',
  'read-corruption',
  'latent-sector',
  'fsync-error',
  'buggify',
  // Appended, not inserted: the swarm draws one coin per kind in this order (sim/plan.ts).
  'bit-rot',
  'misdirected-write',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * What the kernel counts beside the kinds a plan schedules, each with the kind whose episodes
 * or knobs draw it (coverage expects it wherever that kind is eligible): 'crash-loop' is a
 * crash of a node that restarted at most CRASH_LOOP_WINDOW_US before; 'replay' is a duplicate
 * delivered late (replayProbability).
 */
export const DERIVED_FAULT_KINDS = {
  'crash-loop': 'crash',
  replay: 'duplicate',
} as const satisfies Record<string, FaultKind>;
export type FiredKind = FaultKind | keyof typeof DERIVED_FAULT_KINDS;
export const CRASH_LOOP_WINDOW_US = 250_000;

/** The shapes over all servers at once, drawn for every partition episode. */
export const CLASSIC_PARTITION_SHAPES = [
  'isolate',
  'majority-minority',
  'one-way',
  'bridge',
  'ring',
  'groups',
] as const;

export const PARTITION_SHAPES = [
  ...CLASSIC_PARTITION_SHAPES,
  /** One server cut off from every other node, clients included. */
  'isolate-node',
  /** A majority and a minority inside one server group; everyone else hears both sides. */
  'split-group',
  /** Two groups that cannot hear each other; each still hears everyone else. */
  'cut-groups',
] as const;
export type PartitionShape = (typeof PARTITION_SHAPES)[number];

/** A directed link [from, to] that a partition cuts. */
export type Link = [NodeId, NodeId];

export type FaultEvent =
  | {
      atUs: number;
      kind: 'partition';
      shape: PartitionShape;
      links: Link[];
      /** The groups the partition cut (split-group and cut-groups), for reports and the viewer. */
      groups?: string[];
    }
  | { atUs: number; kind: 'heal' }
  | { atUs: number; kind: 'crash'; node: NodeId }
  | { atUs: number; kind: 'restart'; node: NodeId }
  | { atUs: number; kind: 'pause'; node: NodeId; durationUs: number }
  | { atUs: number; kind: 'clock-jump'; node: NodeId; deltaUs: number }
  | { atUs: number; kind: 'clock-drift'; node: NodeId; driftPpm: number }
  | { atUs: number; kind: 'latent-sector'; node: NodeId }
  | { atUs: number; kind: 'fsync-error'; node: NodeId }
  /**
   * Silent durable corruption: one synced sector of one of the node's files gets a flipped
   * bit in its durable copy and reads back the same every time (rereading does not help).
   */
  | { atUs: number; kind: 'bit-rot'; node: NodeId }
  /**
   * The node's next fsync lands one of its sectors on another sector of the same file: the
   * intended sector keeps its old content, the other is overwritten.
   */
  | { atUs: number; kind: 'misdirected-write'; node: NodeId };

/** The fault kinds that damage what a disk durably holds: they alone excuse a refusal. */
export const MEDIA_FAULT_KINDS: readonly FaultKind[] = [
  'latent-sector',
  'bit-rot',
  'misdirected-write',
];

/**
 * Every fault kind but the media faults: for scenarios whose systems keep a lone copy of
 * their data (or have not been judged under durable corruption yet), where a media fault is
 * unrecoverable and the node's refusal to start would fail liveness.
 */
export const FAULT_KINDS_BUT_MEDIA: readonly FaultKind[] = FAULT_KINDS.filter(
  (kind) => !MEDIA_FAULT_KINDS.includes(kind),
);

export type ScriptStep =
  /** Deliver `message` to `node` as if from the harness (a client request, a "campaign now"). */
  | { atUs: number; kind: 'inject'; node: NodeId; message: Message }
  /** Run the scenario's named mid-run check ("exactly one leader now"). */
  | { atUs: number; kind: 'check'; check: string };

export interface Knobs {
  /** The fault kinds this seed turned on (swarm testing). */
  faultKinds: FaultKind[];
  dropProbability: number;
  duplicateProbability: number;
  latencyMinUs: number;
  latencyJitterMeanUs: number;
  latencyTailProbability: number;
  latencyTailMultiplier: number;
  fsyncLatencyMinUs: number;
  fsyncLatencyMaxUs: number;
  /** On a crash, the chance that unsynced writes tear (some sectors land) rather than vanish. */
  tornWriteProbability: number;
  /** The chance that one read returns a flipped bit. */
  readCorruptionProbability: number;
  /** The chance that an activated buggify point fires; 0 turns buggify off. */
  buggifyProbability: number;
  /**
   * The chance that a duplicate arrives late, 0.1–5 s after the original: an old packet
   * replayed (TigerBeetle's packet replay). Absent in plans made before it existed (0).
   */
  replayProbability?: number;
}

/** The knobs that are probabilities: validated to [0, 1], lowered toward 0 by shrink. */
export const PROBABILITY_KNOBS = [
  'dropProbability',
  'duplicateProbability',
  'latencyTailProbability',
  'tornWriteProbability',
  'readCorruptionProbability',
  'buggifyProbability',
] as const satisfies readonly (keyof Knobs)[];

/** Probability knobs newer plans have and older ones lack (read as 0). */
export const OPTIONAL_PROBABILITY_KNOBS = [
  'replayProbability',
] as const satisfies readonly (keyof Knobs)[];

export type WorkloadValue = number | string | boolean;

/** One group of the plan's topology: its nodes, named, in id order. */
export interface PlanGroup {
  name: string;
  /** A client group's nodes drive the workload and record history; they are never fault victims. */
  client: boolean;
  /** The names of its nodes (`g2n1`, `db`, `c4`), unique across the plan. */
  nodes: string[];
}

export interface Plan {
  format: typeof PLAN_FORMAT;
  scenario: string;
  variant: string | null;
  seed: number;
  /** The topology: node ids run through the groups in this order. */
  groups: PlanGroup[];
  /** Faults act in [0, durationUs); the settle phase runs until durationUs + settleUs. */
  durationUs: number;
  settleUs: number;
  knobs: Knobs;
  faults: FaultEvent[];
  script: ScriptStep[];
  /** Scenario-specific workload parameters (operations per client, key count, …). */
  workload: Record<string, WorkloadValue>;
}

// ---------------------------------------------------------------------------------------
// Nodes

export type Phase = 'faults' | 'settle';

export type LogFields = Record<string, unknown>;

export interface InvokeOptions {
  /** Tags the operation with a history stream, so one run can check several histories. */
  stream?: string;
}

export interface HistoryRecorder {
  /** Records a client invocation at the current virtual time; returns its operation id. */
  invoke(input: unknown, options?: InvokeOptions): number;
  /** Records a definite outcome (`ok` or `fail`) for an invocation. */
  complete(operationId: number, status: 'ok' | 'fail', output: unknown): void;
}

/** All a node program may touch. Nothing else: no real time, randomness or I/O. */
export interface NodeContext {
  readonly id: NodeId;
  readonly name: string;
  /** The name of this node's group. */
  readonly group: string;
  /** The members of any group of the topology, in id order; an unknown group throws. */
  members(group: string): readonly NodeId[];
  /** Every node of every server (non-client) group, and of every client group. */
  readonly servers: readonly NodeId[];
  readonly clients: readonly NodeId[];
  /** Scenario parameters and workload knobs, from the plan. */
  readonly workload: Readonly<Record<string, WorkloadValue>>;
  readonly variant: string | null;
  /** This node's own wall clock (offset and drift applied, jumps when faults step it), integer µs. */
  now(): number;
  /**
   * This node's monotonic clock, integer µs from an arbitrary origin: it runs at the node's
   * (drifting) clock rate, never jumps, and keeps counting while the process is paused, as
   * CLOCK_MONOTONIC does. What a lease or a timeout should be measured with.
   */
  monotonic(): number;
  phase(): Phase;
  send(to: NodeId, message: Message, sizeBytes?: number): void;
  /** Fires `onTimer(tag, id)` after `delayUs` on this node's clock. */
  setTimer(delayUs: number, tag: string): number;
  cancelTimer(timerId: number): void;
  readonly random: Random;
  readonly disk: Disk;
  readonly history: HistoryRecorder;
  log(message: string, fields?: LogFields): void;
  /** A typed fact for invariants and `sometimes` assertions. */
  observe(observation: Observation): void;
  /** True with seeded probability at a fault point, on seeds that enable buggify. */
  buggify(label: string): boolean;
}

export interface NodeProgram {
  /** First boot and every restart: rebuild state from the disk here. */
  onStart(): void;
  onMessage(from: NodeId, message: Message): void;
  onTimer(tag: string, timerId: number): void;
  /** An fsync finished: `ok` false means it failed and its writes may be lost. */
  onSynced?(syncId: number, ok: boolean): void;
  /** A read-only god's-eye view of this node's state, for online invariants. */
  inspect?(): unknown;
}

export type ProgramFactory = (context: NodeContext) => NodeProgram;

/** A node id used as the sender of script-injected messages. */
export const HARNESS: NodeId = -1;

// ---------------------------------------------------------------------------------------
// Observations, history, invariants

export interface Observation {
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface ObservationRecord {
  node: NodeId;
  timeUs: number;
  eventIndex: number;
  observation: Observation;
}

export interface HistoryOperation {
  id: number;
  client: NodeId;
  /** The history stream it was tagged with (absent: the run's one default stream). */
  stream?: string;
  input: unknown;
  callUs: number;
  /** Undefined while open: the outcome is unknown (a timeout, a crash). */
  returnUs?: number;
  status?: 'ok' | 'fail';
  output?: unknown;
}

/** A group as invariants see it. */
export interface GroupView {
  readonly name: string;
  readonly client: boolean;
  readonly members: readonly NodeId[];
}

/** What invariants may read: every node's state, never write. */
export interface ClusterView {
  /** Every node of every server group, and of every client group, in id order. */
  readonly servers: readonly NodeId[];
  readonly clients: readonly NodeId[];
  /** The topology, in the plan's order. */
  readonly groups: readonly GroupView[];
  /** The members of a group; an unknown group throws. */
  members(group: string): readonly NodeId[];
  /** The name of a node's group. */
  groupOf(node: NodeId): string;
  readonly timeUs: number;
  readonly phase: Phase;
  isUp(node: NodeId): boolean;
  /** The node's `inspect()` result, or undefined when it is down or has none. */
  inspect(node: NodeId): unknown;
  name(node: NodeId): string;
  readonly history: readonly HistoryOperation[];
  // The simulator always provides the three below (for message budgets and state-size bounds
  // in scripted checks); they are optional so that hand-built views in tests may omit them.
  /** Messages and bytes sent so far, cut or dropped ones included. */
  readonly messagesSent?: number;
  readonly bytesSent?: number;
  /** Bytes in one of the node's files as the node would see it, 0 if absent. */
  fileSize?(node: NodeId, file: string): number;
  /**
   * Media faults that hit the node's disk so far (latent sector errors, corrupted reads, rotted
   * sectors, misdirected writes): what alone excuses a node for refusing to start. Crashes
   * and torn unsynced tails do not count.
   */
  mediaFaults?(node: NodeId): number;
  /**
   * Of those, the ones that changed what the disk stores (rotted sectors, misdirected writes,
   * latent sector errors): a corrupted read is transient and leaves the stored bytes as they
   * were, so a checker comparing stored records needs only these.
   */
  storedDamage?(node: NodeId): number;
  /**
   * The durable image of one of the node's files (Disk.durableImage): what a power loss now
   * would leave, undefined if the file does not exist. What recovery checks compare with.
   */
  durableFile?(node: NodeId, file: string): Uint8Array | undefined;
}

/** Returns a sentence a person can act on when the invariant is broken, else undefined. */
export type Verdict = string | undefined;

/**
 * An end-of-run check that could not decide (a search that ran out of budget): neither a pass
 * nor a violation, and counted as such, so a campaign says how much it did not check.
 */
export interface Undecided {
  undecided: string;
}

export interface Invariant {
  readonly name: string;
  /**
   * The observation types onObservation reads; absent: every type. The kernel calls it only
   * for records of these types, so an invariant that names them must neither answer nor change
   * its state on any other (one that acts on "the node's next observation", whatever its type,
   * or on the passing of time, names none).
   */
  readonly observes?: readonly string[];
  /** Online: after each observation, with a god's-eye view. */
  onObservation?(record: ObservationRecord, view: ClusterView): Verdict;
  /** At the end of the run (after the settle phase), over history and final state. */
  atEnd?(view: ClusterView, observations: readonly ObservationRecord[]): Verdict | Undecided;
}

export interface Violation {
  invariant: string;
  timeUs: number;
  eventIndex: number;
  message: string;
  node?: NodeId;
}

export type Outcome = 'pass' | 'violation' | 'budget' | 'error';

export interface RunStats {
  events: number;
  virtualTimeUs: number;
  wallMs: number;
  messagesSent: number;
  messagesDelivered: number;
  messagesDropped: number;
  messagesDuplicated: number;
  bytesSent: number;
  timersFired: number;
  crashes: number;
  restarts: number;
  fsyncs: number;
  observations: number;
  operations: number;
}

export interface RunResult {
  outcome: Outcome;
  violation?: Violation;
  traceHash: string;
  /** [eventIndex, hash] every CHECKPOINT_EVERY events, to locate divergence on replay. */
  checkpoints: [number, string][];
  stats: RunStats;
  /** How often each fault kind actually fired. */
  faultsFired: Partial<Record<FiredKind, number>>;
  /**
   * How often partitions of each shape were applied (each flap counts, as in `faultsFired`).
   * The simulator always sets it; optional so that hand-built results may omit it.
   */
  partitionShapes?: Partial<Record<PartitionShape, number>>;
  /**
   * The seed's drawn shape (parameter → value: `durationUs`, a group's size, a workload
   * value), read back from the plan; absent for a scenario with a fixed shape.
   */
  shape?: Readonly<Record<string, number>>;
  /** The `sometimes` assertions reached in this run. */
  sometimes: string[];
  /** End-of-run checks that could not decide, with why. */
  undecided: { invariant: string; reason: string }[];
  /** Bytes sent per directed link, keyed "from->to" by node name. */
  linkBytes: Record<string, number>;
  history: HistoryOperation[];
}
