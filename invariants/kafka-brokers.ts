// God's-eye invariants of the Kafka-like log's replication (issue 15), read from the brokers'
// inspect views and observations (systems/kafka/contract.ts):
//   - one leader per leader epoch: two brokers never both become leader of a partition in the
//     same epoch (Kafka's election safety; the controller's log decides each epoch once), and
//     with leader epochs no broker leads an epoch again after a restart (its unsynced tail
//     is gone: KRaft fences a restarted broker's old epochs);
//   - high watermark within the ISR: when a leader advances its HW, every running member of
//     its ISR — as it knows it, and as the controllers last decided it in that leader epoch
//     (their kafka-partition-state observations) — holds the log up to it (HW ≤ the smallest log end offset in the ISR), and
//     the newest records below it are the leader's;
//   - a leader's epoch is at least every epoch in its own log.
//   - leader epochs never decrease: every controller reports the same leader epoch for one
//     partition epoch, and a later partition epoch never has a smaller one (the metadata log
//     decides each change once, and only an election moves the leader epoch, up by one); a
//     broker, within one session, never becomes leader of a partition in an epoch below one
//     it has already led.
import type { ClusterView, Invariant, NodeId, ObservationRecord, Verdict } from '../sim/types.ts';
import type {
  BecameLeaderObservation,
  KafkaKey,
  PartitionStateObservation,
} from '../systems/kafka/contract.ts';
import { brokerState, corruptionDetected } from '../systems/kafka/contract.ts';

/** How many offsets below the HW the agreement check compares (the newest ones). */
const HW_COMPARE_OFFSETS = 2;

export function oneLeaderPerEpoch(): Invariant {
  const leaders = new Map<string, { node: number; timeUs: number; session: number }>();
  return {
    name: 'kafka-one-leader-per-epoch',
    onObservation(record: ObservationRecord, view: ClusterView): Verdict {
      if (record.observation.type !== 'kafka-became-leader') {
        return undefined;
      }
      const observation = record.observation as unknown as BecameLeaderObservation;
      const { key, leaderEpoch: epoch, latestLogEpoch: logEpoch } = observation;
      if (logEpoch > epoch) {
        return `partition ${key}: ${view.name(record.node)} became leader in epoch ${epoch} with records of epoch ${logEpoch} in its log`;
      }
      const slot = `${key}\u0000${epoch}`;
      const known = leaders.get(slot);
      if (known === undefined) {
        leaders.set(slot, {
          node: record.node,
          timeUs: record.timeUs,
          session: observation.session,
        });
        return undefined;
      }
      if (known.node === record.node) {
        if (known.session === observation.session || !observation.fencesRestarts) {
          return undefined; // the same broker again (a restart, in the protocol without epochs)
        }
        return `partition ${key}: ${view.name(record.node)} became leader in epoch ${epoch} at ${known.timeUs} µs, restarted, and led epoch ${epoch} again at ${record.timeUs} µs: a restarted leader must not resume an epoch (its unsynced tail is gone, its followers may hold records of that epoch it lacks)`;
      }
      return `partition ${key}: ${view.name(known.node)} became leader in epoch ${epoch} at ${known.timeUs} µs, and ${view.name(record.node)} became leader in the same epoch at ${record.timeUs} µs`;
    },
  };
}

/** Whether a media fault ever changed what the node's disk stores (not a corrupted read). */
function damagedDisk(view: ClusterView, node: NodeId): boolean {
  return (view.storedDamage?.(node) ?? 0) > 0;
}

export function leaderEpochsNeverDecrease(): Invariant {
  /** key → partition epoch → the state the first controller reported for it. */
  const decided = new Map<KafkaKey, PartitionStateObservation[]>();
  /** broker, session and key → the newest leader epoch it became leader in. */
  const led = new Map<string, number>();
  return {
    name: 'kafka-leader-epochs-never-decrease',
    observes: ['kafka-partition-state', 'kafka-became-leader'],
    onObservation(record: ObservationRecord, view: ClusterView): Verdict {
      if (record.observation.type === 'kafka-became-leader') {
        const became = record.observation as unknown as BecameLeaderObservation;
        const slot = `${record.node}\u0000${became.session}\u0000${became.key}`;
        const before = led.get(slot);
        if (before !== undefined && became.leaderEpoch < before) {
          return `partition ${became.key}: ${view.name(record.node)} led epoch ${before} and then, in the same session, became leader in the older epoch ${became.leaderEpoch} at ${record.timeUs} µs`;
        }
        led.set(slot, became.leaderEpoch);
        return undefined;
      }
      if (record.observation.type !== 'kafka-partition-state') {
        return undefined;
      }
      const state = record.observation as unknown as PartitionStateObservation;
      let states = decided.get(state.key);
      if (states === undefined) {
        states = [];
        decided.set(state.key, states);
      }
      const known = states[state.partitionEpoch];
      if (known !== undefined) {
        if (
          known.leaderEpoch !== state.leaderEpoch ||
          known.leader !== state.leader ||
          known.isr.join() !== state.isr.join()
        ) {
          return `partition ${state.key}, partition epoch ${state.partitionEpoch}: ${view.name(record.node)} applied leader ${state.leader} in epoch ${state.leaderEpoch} with ISR [${state.isr.join(', ')}], where another controller applied leader ${known.leader} in epoch ${known.leaderEpoch} with ISR [${known.isr.join(', ')}]: the metadata log decided one change twice`;
        }
        return undefined;
      }
      states[state.partitionEpoch] = state;
      // The nearest partition epochs already known on either side bound this one's leader epoch.
      let below = state.partitionEpoch - 1;
      while (below >= 0 && states[below] === undefined) {
        below--;
      }
      let above = state.partitionEpoch + 1;
      while (above < states.length && states[above] === undefined) {
        above++;
      }
      const lower = below >= 0 ? states[below] : undefined;
      const upper = above < states.length ? states[above] : undefined;
      if (lower !== undefined && lower.leaderEpoch > state.leaderEpoch) {
        return `partition ${state.key}: leader epoch ${lower.leaderEpoch} at partition epoch ${below}, then the older leader epoch ${state.leaderEpoch} at partition epoch ${state.partitionEpoch} (${view.name(record.node)}): leader epochs must never decrease`;
      }
      if (upper !== undefined && upper.leaderEpoch < state.leaderEpoch) {
        return `partition ${state.key}: leader epoch ${state.leaderEpoch} at partition epoch ${state.partitionEpoch} (${view.name(record.node)}), but the later partition epoch ${above} has the older leader epoch ${upper.leaderEpoch}: leader epochs must never decrease`;
      }
      return undefined;
    },
  };
}

export function highWatermarkWithinIsr(): Invariant {
  /** key → leader epoch → the newest ISR the controllers decided in it (by partition epoch). */
  const decided = new Map<string, { partitionEpoch: number; isr: readonly NodeId[] }>();
  return {
    name: 'kafka-hw-within-isr',
    onObservation(record: ObservationRecord, view: ClusterView): Verdict {
      const observation = record.observation;
      if (observation.type === 'kafka-partition-state') {
        const state = observation as unknown as PartitionStateObservation;
        const slot = `${state.key}\u0000${state.leaderEpoch}`;
        if (state.partitionEpoch > (decided.get(slot)?.partitionEpoch ?? -1)) {
          decided.set(slot, { partitionEpoch: state.partitionEpoch, isr: state.isr });
        }
        return undefined;
      }
      if (observation.type !== 'kafka-hw') {
        return undefined;
      }
      const key = observation['key'] as string;
      const leader = brokerState(view, record.node)?.partitions.get(key);
      if (leader === undefined || leader.role !== 'leader') {
        return undefined;
      }
      const hw = leader.highWatermark;
      // The ISR the controllers last decided in this leader epoch counts too: they elect the
      // next leader from it, and a leader's own copy may lag it (a readmission it has not
      // heard the answer to; or it is a zombie the controllers have moved on from).
      const members = new Set(leader.isr);
      for (const node of decided.get(`${key}\u0000${leader.leaderEpoch}`)?.isr ?? []) {
        members.add(node);
      }
      for (const node of members) {
        if (node === record.node || !view.isUp(node)) {
          continue;
        }
        const member = brokerState(view, node)?.partitions.get(key);
        if (member === undefined || member.leaderEpoch > leader.leaderEpoch) {
          continue; // it has moved on to a newer leader: this one is a zombie now
        }
        if (member.logEndOffset < hw) {
          return `partition ${key}: leader ${view.name(record.node)} (epoch ${leader.leaderEpoch}) advanced its high watermark to ${hw}, but ISR member ${view.name(node)} holds the log only to ${member.logEndOffset}`;
        }
        if (damagedDisk(view, record.node) || damagedDisk(view, node)) {
          // A media fault may have changed what that disk stores, unseen until the broker
          // reads it back (its checksum then stops it): the records compared are the files'.
          // Held log ends are still compared, above; recovery's refusals and the client
          // history judge what a damaged copy does.
          continue;
        }
        for (
          // Only what both still hold: retention moves each replica's log start on its own.
          let offset = Math.max(
            member.logStartOffset,
            leader.logStartOffset,
            hw - HW_COMPARE_OFFSETS,
          );
          offset < hw;
          offset++
        ) {
          const mine = leader.valueAt(offset);
          const theirs = member.valueAt(offset);
          if (mine !== theirs) {
            return `partition ${key}: below leader ${view.name(record.node)}'s high watermark ${hw}, offset ${offset} holds ${mine} there and ${theirs} on ISR member ${view.name(node)}`;
          }
        }
      }
      return undefined;
    },
  };
}

/**
 * A broker finds a partition's durable records damaged only when a media fault hit its
 * disk: crashes tear only unsynced writes, which recovery cuts, so damage found after crashes
 * alone is recovery misreading its own files (the silent-failure class of issue 17), and
 * the re-copy it starts would be needless.
 */
export function brokerDamageOnlyOnMediaFault(): Invariant {
  return {
    name: 'kafka-damage-only-on-media-fault',
    observes: ['kafka-corruption-detected'],
    onObservation(record: ObservationRecord, view: ClusterView): Verdict {
      const found = corruptionDetected(record.observation);
      if (found === undefined) {
        return undefined;
      }
      if (view.mediaFaults === undefined || view.mediaFaults(record.node) > 0) {
        return undefined;
      }
      return `${view.name(record.node)} found partition ${found.key}'s durable records damaged at ${record.timeUs} µs (${found.reason}), yet no media fault ever hit its disk: recovery misread its own files`;
    },
  };
}

/**
 * The partitions left without a leader at the end because their last ISR member found its
 * copy damaged by a media fault: the controllers' newest state of each has no leader and an
 * empty ISR (only a damage report empties one), and a broker hit by media faults reported
 * damage to it. Clean election keeps such a partition offline — the replicas outside the ISR
 * may lack acknowledged records — rather than lose data; liveness checks stand down for it,
 * and only for it. Safety checks never ask.
 */
export function offlineAfterMediaFaults(
  view: ClusterView,
  observations: readonly ObservationRecord[],
): Set<KafkaKey> {
  const damagedKeys = new Set<KafkaKey>();
  const newest = new Map<KafkaKey, PartitionStateObservation>();
  for (const record of observations) {
    const observation = record.observation;
    const found = corruptionDetected(observation);
    if (found !== undefined) {
      if ((view.mediaFaults?.(record.node) ?? 0) > 0) {
        damagedKeys.add(found.key);
      }
    } else if (observation.type === 'kafka-partition-state') {
      const state = observation as unknown as PartitionStateObservation;
      if (state.partitionEpoch > (newest.get(state.key)?.partitionEpoch ?? -1)) {
        newest.set(state.key, state);
      }
    }
  }
  const offline = new Set<KafkaKey>();
  for (const key of damagedKeys) {
    const state = newest.get(key);
    if (state !== undefined && state.leader === -1 && state.isr.length === 0) {
      offline.add(key);
    }
  }
  return offline;
}

export function kafkaBrokerInvariants(): Invariant[] {
  return [
    oneLeaderPerEpoch(),
    leaderEpochsNeverDecrease(),
    highWatermarkWithinIsr(),
    brokerDamageOnlyOnMediaFault(),
  ];
}
