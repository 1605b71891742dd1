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
import { assert } from '../../sim/assert.ts';
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
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMetadataCommand(command: MetadataCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

function decodeMetadataCommand(data: Uint8Array): MetadataCommand {
  const command = JSON.parse(decoder.decode(data)) as MetadataCommand;
  assert(
    ['register', 'fence', 'unfence', 'alter-partition'].includes(command.op),
    `unknown metadata command ${String(command.op)}`,
  );
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
  onLeaderChange: ((partition: PartitionState, unclean: boolean) => void) | undefined;
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
      if (partition.leader === broker || partition.leader === -1) {
        this.elect({ ...partition, isr }, broker);
      } else if (isr.length !== partition.isr.length) {
        this.setPartition({
          ...partition,
          isr,
          partitionEpoch: partition.partitionEpoch + 1,
        });
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
      if (partition === undefined || !partition.isr.includes(broker)) {
        continue;
      }
      const isr = partition.isr.filter((node) => node !== broker);
      if (partition.leader === broker) {
        this.elect({ ...partition, isr }, broker);
      } else {
        this.setPartition({ ...partition, isr, partitionEpoch: partition.partitionEpoch + 1 });
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

  /** Picks a leader: the first live ISR member, else (unclean) any live replica, else none. */
  private elect(partition: PartitionState, excluded: NodeId): void {
    const eligible = (node: NodeId) => node !== excluded && this.isLive(node);
    let leader = partition.isr.find(eligible) ?? -1;
    let isr = partition.isr;
    let unclean = false;
    if (leader === -1 && this.options.uncleanElection) {
      leader = partition.replicas.find(eligible) ?? -1;
      if (leader !== -1) {
        unclean = true;
        isr = [leader]; // an unclean leader's log is the truth now
      }
    }
    if (leader === -1 && partition.leader === -1 && isr === partition.isr) {
      return; // still offline, nothing changed
    }
    const next: PartitionState = {
      ...partition,
      leader,
      isr,
      leaderEpoch: partition.leaderEpoch + 1,
      partitionEpoch: partition.partitionEpoch + 1,
    };
    this.setPartition(next);
    this.onLeaderChange?.(next, unclean);
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
    const next: PartitionState = {
      ...partition,
      isr: nextIsr,
      partitionEpoch: partition.partitionEpoch + 1,
    };
    this.setPartition(next);
    return { ok: true, partition: next };
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
