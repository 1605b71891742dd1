// The cluster metadata the controller quorum replicates (KRaft-style): registered brokers,
// which are fenced, and per partition its replicas, leader, leader epoch, ISR and partition
// epoch. A pure state machine over JSON-encoded commands, applied in Raft log order on every
// controller, so leader elections are decided once, in the log, the same everywhere.
//
//   register(broker, session)  a broker (re)started: its old session is fenced as below, and
//                              it stays fenced until it heartbeats having caught up; the
//                              partitions whose logs it found damaged (`damaged`) it leaves
//                              at once, even as their last ISR member
//   fence(broker)              its session timed out: out of every ISR it is in (unless it is
//                              the last member), and leadership moves to another ISR member
//   unfence(broker)            it is back: partitions left without a leader whose ISR holds it
//                              elect it
//   alter-partition(...)       a leader's ISR change, accepted only if it names the current
//                              leader epoch and partition epoch (a stale leader is refused)
//
// Every leadership change bumps the leader epoch. Elections are clean (from the ISR) unless
// `uncleanElection` is set, when a partition with no live ISR member takes any live replica.
import { fail } from '../../sim/assert.ts';
import type { NodeId } from '../../sim/types.ts';
import type { StateMachine } from '../raft/group.ts';
import type { Entry } from '../raft/types.ts';
import type { KafkaKey } from './contract.ts';

export interface PartitionState {
  readonly key: KafkaKey;
  readonly replicas: readonly NodeId[];
  /** -1: offline, no eligible leader. */
  readonly leader: NodeId;
  readonly leaderEpoch: number;
  readonly isr: readonly NodeId[];
  /** Bumped on every change, ISR included: an AlterPartition must name the current one. */
  readonly partitionEpoch: number;
  /**
   * Eligible leader replicas (KIP-966; empty unless the option is on): replicas out of the
   * ISR that hold every record below the high watermark, because they left it while it was
   * below min.insync.replicas, when the HW stands still. Cleared once the ISR is back at
   * min.insync.replicas. A clean election takes one when no ISR member can lead. Absent when
   * empty, so that the metadata is encoded as before the option existed.
   */
  readonly elr?: readonly NodeId[];
}

export interface BrokerRegistration {
  readonly broker: NodeId;
  readonly session: number;
  readonly fenced: boolean;
  /**
   * The metadata version that fenced (or registered) it: it is let back in once it has
   * caught up to there (KRaft's rule), not to whatever is newest, which may never hold still.
   */
  readonly fencedAtVersion: number;
}

/** A partition's eligible leader replicas (none when the field is absent). */
export function eligibleOf(partition: PartitionState): readonly NodeId[] {
  return partition.elr ?? [];
}

/** The partition with these eligible leader replicas: the field only when there are some. */
function withEligible(
  partition: PartitionState,
  elr: readonly NodeId[] | undefined,
): PartitionState {
  const { elr: _before, ...rest } = partition;
  return elr === undefined || elr.length === 0 ? rest : { ...rest, elr };
}

export type MetadataCommand =
  | {
      readonly op: 'register';
      readonly broker: NodeId;
      readonly session: number;
      /** Partitions whose durable records the broker found damaged at its restart. */
      readonly damaged?: readonly KafkaKey[];
    }
  | { readonly op: 'fence'; readonly broker: NodeId; readonly session: number }
  | { readonly op: 'unfence'; readonly broker: NodeId; readonly session: number }
  | {
      readonly op: 'alter-partition';
      readonly key: KafkaKey;
      readonly leader: NodeId;
      readonly leaderEpoch: number;
      readonly partitionEpoch: number;
      readonly isr: readonly NodeId[];
    };

export type MetadataResult =
  | { readonly ok: true; readonly partition?: PartitionState }
  | { readonly ok: false; readonly reason: string; readonly partition?: PartitionState };

export interface MetadataOptions {
  /** The topic's partitions and their replicas, in preference order. */
  partitions: readonly { key: KafkaKey; replicas: readonly NodeId[] }[];
  uncleanElection: boolean;
  /**
   * True (KRaft): a restarted broker's new session fences the old one, which leaves its ISRs
   * and leaderships. False (ZooKeeper-era Kafka, before KIP-101): a broker back within its
   * session keeps both, and leads on in the same leader epoch.
   */
  fenceOnRegister: boolean;
  /** Eligible leader replicas (KIP-966), kept only when true. */
  eligibleLeaderReplicas?: boolean;
  /** min.insync.replicas: below it the ISR's leavers become eligible leader replicas. */
  minInsyncReplicas?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMetadataCommand(command: MetadataCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

function decodeMetadataCommand(data: Uint8Array): MetadataCommand {
  const command = JSON.parse(decoder.decode(data)) as MetadataCommand;
  if (!['register', 'fence', 'unfence', 'alter-partition'].includes(command.op)) {
    fail(`unknown metadata command ${String(command.op)}`);
  }
  return command;
}

interface Snapshot {
  brokers: BrokerRegistration[];
  partitions: PartitionState[];
  version: number;
}

export class MetadataStateMachine implements StateMachine {
  readonly brokers = new Map<NodeId, BrokerRegistration>();
  readonly partitions = new Map<KafkaKey, PartitionState>();
  /** The index of the last applied entry: brokers take newer metadata only. */
  version = 0;
  /** Called for each leadership change, for observations. */
  onLeaderChange:
    | ((partition: PartitionState, unclean: boolean, fromEligible: boolean) => void)
    | undefined;
  /** Called for every change to a partition (leader or ISR), for observations. */
  onPartitionChange: ((partition: PartitionState) => void) | undefined;

  constructor(private readonly options: MetadataOptions) {
    this.reset();
  }

  private reset(): void {
    this.brokers.clear();
    this.partitions.clear();
    this.version = 0;
    for (const { key, replicas } of this.options.partitions) {
      // Offline until its replicas register: the first to come back leads (all are in the ISR).
      this.partitions.set(key, {
        key,
        replicas,
        leader: -1,
        leaderEpoch: 0,
        isr: replicas,
        partitionEpoch: 0,
      });
    }
  }

  apply(entry: Entry): MetadataResult {
    this.version = entry.index;
    return this.applyCommand(decodeMetadataCommand(entry.data));
  }

  applyCommand(command: MetadataCommand): MetadataResult {
    switch (command.op) {
      case 'register': {
        const known = this.brokers.get(command.broker);
        if (known !== undefined && known.session === command.session) {
          return { ok: true }; // a retried registration
        }
        this.leaveDamaged(command.broker, command.damaged ?? []);
        if (known !== undefined && !known.fenced && !this.options.fenceOnRegister) {
          this.brokers.set(command.broker, { ...known, session: command.session });
          return { ok: true };
        }
        this.brokers.set(command.broker, {
          broker: command.broker,
          session: command.session,
          fenced: true,
          fencedAtVersion: this.version,
        });
        if (known !== undefined) {
          // A new session of a broker we knew: its old one is over (a first registration
          // leaves the new cluster's ISRs, which hold every replica, as they are).
          this.fenceEffects(command.broker);
        }
        return { ok: true };
      }
      case 'fence': {
        const known = this.brokers.get(command.broker);
        if (known === undefined || known.session !== command.session || known.fenced) {
          return { ok: false, reason: 'not an unfenced session' };
        }
        this.brokers.set(command.broker, { ...known, fenced: true, fencedAtVersion: this.version });
        this.fenceEffects(command.broker);
        return { ok: true };
      }
      case 'unfence': {
        const known = this.brokers.get(command.broker);
        if (known === undefined || known.session !== command.session) {
          return { ok: false, reason: 'unknown session' };
        }
        if (known.fenced) {
          this.brokers.set(command.broker, { ...known, fenced: false });
          this.electOffline();
        }
        return { ok: true };
      }
      case 'alter-partition':
        return this.alterPartition(command);
    }
  }

  isLive(broker: NodeId): boolean {
    const known = this.brokers.get(broker);
    return known !== undefined && !known.fenced;
  }

  /** A fenced broker leaves every ISR (unless it is the last member) and every leadership. */
  private fenceEffects(broker: NodeId): void {
    for (const partition of this.partitions.values()) {
      if (!partition.replicas.includes(broker)) {
        continue;
      }
      const isr =
        partition.isr.length > 1 ? partition.isr.filter((node) => node !== broker) : partition.isr;
      // Fenced, its copy is intact: if the ISR is now short, it may lead again (KIP-966).
      const shrunk = withEligible({ ...partition, isr }, this.eligibleAfter(partition, isr, []));
      if (partition.leader === broker || partition.leader === -1) {
        this.elect(shrunk, broker);
      } else if (isr.length !== partition.isr.length) {
        this.setPartition({ ...shrunk, partitionEpoch: partition.partitionEpoch + 1 });
      }
    }
  }

  /**
   * A broker that found a partition's durable records damaged leaves its ISR, even as the
   * last member, and its leadership: it will copy the partition afresh from a leader, and
   * until it has caught up its copy must never be elected. With no other ISR member the
   * partition has none, and stays offline (unless elections are unclean) rather than take a
   * leader that may lack acknowledged records.
   */
  private leaveDamaged(broker: NodeId, keys: readonly KafkaKey[]): void {
    for (const key of keys) {
      const partition = this.partitions.get(key);
      if (
        partition === undefined ||
        (!partition.isr.includes(broker) && !eligibleOf(partition).includes(broker))
      ) {
        continue;
      }
      const isr = partition.isr.filter((node) => node !== broker);
      // Its copy may lack acknowledged records now: never eligible until it is in the ISR again.
      const elr = this.eligibleAfter(partition, isr, [broker]);
      if (partition.leader === broker) {
        this.elect(withEligible({ ...partition, isr }, elr), broker);
      } else {
        this.setPartition(
          withEligible({ ...partition, isr, partitionEpoch: partition.partitionEpoch + 1 }, elr),
        );
      }
    }
  }

  private electOffline(): void {
    for (const partition of this.partitions.values()) {
      if (partition.leader === -1) {
        this.elect(partition, -1);
      }
    }
  }

  /**
   * Picks a leader: the first live ISR member, else (KIP-966) the first live eligible leader
   * replica, else (unclean) any live replica, else none.
   */
  private elect(partition: PartitionState, excluded: NodeId): void {
    const eligible = (node: NodeId) => node !== excluded && this.isLive(node);
    let leader = partition.isr.find(eligible) ?? -1;
    let isr = partition.isr;
    let elr = partition.elr;
    let unclean = false;
    let fromEligible = false;
    if (leader === -1) {
      const fromElr = eligibleOf(partition).find(eligible);
      if (fromElr !== undefined) {
        // Clean: it holds every record below the HW. The ISR members it replaces do too.
        leader = fromElr;
        fromEligible = true;
        isr = [fromElr];
        elr = this.eligibleAfter(partition, isr, []);
      }
    }
    if (leader === -1 && this.options.uncleanElection) {
      leader = partition.replicas.find(eligible) ?? -1;
      if (leader !== -1) {
        unclean = true;
        isr = [leader]; // an unclean leader's log is the truth now
        elr = undefined;
      }
    }
    if (
      leader === -1 &&
      partition.leader === -1 &&
      isr === partition.isr &&
      elr === partition.elr
    ) {
      return; // still offline, nothing changed
    }
    const next = withEligible(
      {
        ...partition,
        leader,
        isr,
        leaderEpoch: partition.leaderEpoch + 1,
        partitionEpoch: partition.partitionEpoch + 1,
      },
      elr,
    );
    this.setPartition(next);
    this.onLeaderChange?.(next, unclean, fromEligible);
  }

  /** Why an AlterPartition would be refused now (undefined: it would be applied). */
  refusal(command: Extract<MetadataCommand, { op: 'alter-partition' }>): string | undefined {
    const partition = this.partitions.get(command.key);
    if (partition === undefined) {
      return `no partition ${command.key}`;
    }
    if (
      partition.leader !== command.leader ||
      partition.leaderEpoch !== command.leaderEpoch ||
      partition.partitionEpoch !== command.partitionEpoch
    ) {
      return 'stale';
    }
    const same =
      command.isr.length === partition.isr.length &&
      command.isr.every((node) => partition.isr.includes(node));
    const readmitsFenced = command.isr.some(
      (node) => !partition.isr.includes(node) && !this.isLive(node),
    );
    return same || readmitsFenced ? 'no change' : undefined;
  }

  private alterPartition(
    command: Extract<MetadataCommand, { op: 'alter-partition' }>,
  ): MetadataResult {
    const partition = this.partitions.get(command.key);
    if (partition === undefined) {
      return { ok: false, reason: `no partition ${command.key}` };
    }
    if (
      partition.leader !== command.leader ||
      partition.leaderEpoch !== command.leaderEpoch ||
      partition.partitionEpoch !== command.partitionEpoch
    ) {
      return {
        ok: false,
        reason: `stale: partition ${command.key} is at leader ${partition.leader} epoch ${partition.leaderEpoch}, partition epoch ${partition.partitionEpoch}`,
        partition,
      };
    }
    const isr = [...new Set(command.isr)].filter((node) => partition.replicas.includes(node));
    if (!isr.includes(command.leader)) {
      return { ok: false, reason: 'an ISR must hold its leader', partition };
    }
    // A fenced broker is not let back in (KRaft refuses it too).
    const admitted = isr.filter((node) => partition.isr.includes(node) || this.isLive(node));
    const nextIsr = partition.replicas.filter((node) => admitted.includes(node));
    if (
      nextIsr.length === partition.isr.length &&
      nextIsr.every((node) => partition.isr.includes(node))
    ) {
      return { ok: false, reason: 'no change (a fenced broker is not readmitted)', partition };
    }
    const next = withEligible(
      { ...partition, isr: nextIsr, partitionEpoch: partition.partitionEpoch + 1 },
      this.eligibleAfter(partition, nextIsr, []),
    );
    this.setPartition(next);
    return { ok: true, partition: next };
  }

  /**
   * The eligible leader replicas once a partition's ISR becomes `isr` (KIP-966): none while the
   * ISR holds min.insync.replicas (the HW moves on without the others); below it, the ones
   * eligible before and the members leaving now, all of which hold every record below the HW
   * (it stood still since they left), but the new ISR's and those whose copy is `damaged`.
   */
  private eligibleAfter(
    partition: PartitionState,
    isr: readonly NodeId[],
    damaged: readonly NodeId[],
  ): readonly NodeId[] | undefined {
    const before = eligibleOf(partition);
    if (this.options.eligibleLeaderReplicas !== true) {
      return partition.elr;
    }
    if (isr.length >= (this.options.minInsyncReplicas ?? 1)) {
      return undefined;
    }
    const leaving = partition.isr.filter((node) => !isr.includes(node));
    const next = partition.replicas.filter(
      (node) =>
        (before.includes(node) || leaving.includes(node)) &&
        !isr.includes(node) &&
        !damaged.includes(node),
    );
    const same = next.length === before.length && next.every((node) => before.includes(node));
    return same ? partition.elr : next.length === 0 ? undefined : next;
  }

  private setPartition(next: PartitionState): void {
    this.partitions.set(next.key, next);
    this.onPartitionChange?.(next);
  }

  snapshot(): Uint8Array {
    const body: Snapshot = {
      brokers: [...this.brokers.values()],
      partitions: [...this.partitions.values()],
      version: this.version,
    };
    return encoder.encode(JSON.stringify(body));
  }

  restore(data: Uint8Array): void {
    const body = JSON.parse(decoder.decode(data)) as Snapshot;
    this.reset();
    for (const broker of body.brokers) {
      this.brokers.set(broker.broker, broker);
    }
    for (const partition of body.partitions) {
      this.partitions.set(partition.key, partition);
    }
    this.version = body.version;
  }
}
