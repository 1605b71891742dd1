// Raft invariants judged at the end of a run: no acknowledged command is lost, and the
// cluster recovers once faults stop. Plus the `sometimes` conditions Raft scenarios declare.
import { assert } from '../sim/assert.ts';
import type {
  ClusterView,
  HistoryOperation,
  Invariant,
  NodeId,
  ObservationRecord,
  Verdict,
} from '../sim/types.ts';
import {
  at,
  commandIdDigest,
  formatDigest,
  formatTime,
  type RaftInspect,
  raftObservation,
  type Source,
  serverState,
} from './raft-common.ts';
import { type PerGroupOptions, raftInvariantsPerGroup } from './raft-groups.ts';
import { quorumLostToMediaFaults } from './raft-recovery.ts';

// ---- 10. acknowledged commands are never lost -----------------------------------------------

interface Ack extends Source {
  readonly id: string;
  readonly index: number;
  readonly term: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function ackFromOperation(operation: HistoryOperation): Ack | undefined {
  const input = operation.input;
  if (operation.status !== 'ok' || !isRecord(input) || input['f'] !== 'propose') {
    return undefined;
  }
  const output = operation.output;
  const id = input['id'];
  assert(
    typeof id === 'string' &&
      isRecord(output) &&
      typeof output['index'] === 'number' &&
      typeof output['term'] === 'number',
    `propose operation ${operation.id} must have input {f, id: string} and output {index, term}`,
  );
  return {
    id,
    index: output['index'] as number,
    term: output['term'] as number,
    node: operation.client,
    timeUs: operation.returnUs ?? operation.callUs,
  };
}

/** Every acknowledgement, from the history and from proposal-acked, once per (id, index). */
function collectAcks(view: ClusterView, observations: readonly ObservationRecord[]): Ack[] {
  const acks = new Map<string, Ack>();
  const add = (ack: Ack) => {
    const key = `${ack.index}:${ack.id}`;
    if (!acks.has(key)) {
      acks.set(key, ack);
    }
  };
  for (const operation of view.history) {
    const ack = ackFromOperation(operation);
    if (ack !== undefined) {
      add(ack);
    }
  }
  for (const record of observations) {
    const observation = raftObservation(record);
    if (observation.type === 'proposal-acked') {
      const { id, index, term } = observation;
      add({ id, index, term, node: record.node, timeUs: record.timeUs });
    }
  }
  return [...acks.values()];
}

interface AppliedAt extends Source {
  readonly digest: number;
}

function firstApplies(observations: readonly ObservationRecord[]): Map<number, AppliedAt> {
  const applied = new Map<number, AppliedAt>();
  for (const record of observations) {
    const observation = raftObservation(record);
    if (observation.type === 'applied' && !applied.has(observation.index)) {
      applied.set(observation.index, {
        node: record.node,
        timeUs: record.timeUs,
        digest: observation.digest,
      });
    }
  }
  return applied;
}

export interface AckedNeverLostOptions {
  /** The digest of the entry that carries command `id`; defaults to commandIdDigest. */
  digestOfId?: (id: string) => number;
}

/**
 * A command a client saw acknowledged at (index, term) is, at the end, what every state
 * machine applied at that index (in any incarnation), what every up server that committed
 * that far holds there, and some up server has applied it.
 */
export function ackedNeverLost(options: AckedNeverLostOptions = {}): Invariant {
  const digestOfId = options.digestOfId ?? commandIdDigest;

  const checkServer = (
    view: ClusterView,
    ack: Ack,
    expected: number,
    node: NodeId,
    state: RaftInspect,
  ): Verdict => {
    // Built only for a verdict: this runs for every acknowledgement on every server.
    const acked = () =>
      `command ${JSON.stringify(ack.id)} was acknowledged to ${at(view, ack)} at index ${ack.index}, term ${ack.term}`;
    if (state.commitIndex >= ack.index) {
      const term = state.termAt(ack.index);
      if (term !== undefined && term !== ack.term) {
        return `${acked()}, but at the end ${view.name(node)} has committed term ${term} at that index: the acknowledged entry was overwritten`;
      }
    }
    if (state.appliedIndex < ack.index) {
      return undefined;
    }
    const digest =
      state.appliedDigests.get(ack.index) ??
      (state.commitIndex >= ack.index ? state.digestAt(ack.index) : undefined);
    if (digest !== undefined && digest !== expected) {
      return `${acked()}, but at the end ${view.name(node)} has applied a different entry there (digest ${formatDigest(digest)}, expected ${formatDigest(expected)}): the acknowledged command was lost`;
    }
    return undefined;
  };

  const checkAck = (
    view: ClusterView,
    ack: Ack,
    applied: Map<number, AppliedAt>,
    quorumLost: () => string | undefined,
  ): Verdict => {
    const expected = digestOfId(ack.id);
    const first = applied.get(ack.index);
    if (first !== undefined && first.digest !== expected) {
      return `command ${JSON.stringify(ack.id)} was acknowledged to ${at(view, ack)} at index ${ack.index}, term ${ack.term}, but ${at(view, first)} applied a different entry there (digest ${formatDigest(first.digest)}, expected ${formatDigest(expected)}): the acknowledged command was lost`;
    }
    let highest = 0;
    for (const node of view.servers) {
      const state = serverState(view, node);
      if (state === undefined) {
        continue;
      }
      highest = Math.max(highest, state.appliedIndex);
      const verdict = checkServer(view, ack, expected, node, state);
      if (verdict !== undefined) {
        return verdict;
      }
    }
    // Where media faults left no majority of the voters running, the acknowledged entry may
    // survive only on the disks they damaged, which correct servers refuse to start from:
    // that clause alone is not asked then (no server may still hold or apply another entry).
    if (highest < ack.index && quorumLost() === undefined) {
      return `command ${JSON.stringify(ack.id)} was acknowledged to ${at(view, ack)} at index ${ack.index}, term ${ack.term}, but at the end no running server has applied that far (the furthest is ${highest}): the acknowledged command was lost`;
    }
    return undefined;
  };

  return {
    name: 'acked-never-lost',
    atEnd(view, observations) {
      const acks = collectAcks(view, observations);
      if (acks.length === 0) {
        return undefined;
      }
      const applied = firstApplies(observations);
      let quorumLost: { why: string | undefined } | undefined;
      const lost = () => {
        quorumLost ??= { why: quorumLostToMediaFaults(view, observations) };
        return quorumLost.why;
      };
      for (const ack of acks) {
        const verdict = checkAck(view, ack, applied, lost);
        if (verdict !== undefined) {
          return verdict;
        }
      }
      return undefined;
    },
  };
}

// ---- 11. liveness after the settle phase ----------------------------------------------------

export interface RaftLivenessOptions {
  /** When faults stop (plan.durationUs); else the first observation seen in the settle phase. */
  settleStartUs?: number;
  /** How long after the settle phase began the first new command may take to apply. */
  commitWithinUs?: number;
}

export const DEFAULT_COMMIT_WITHIN_US = 3_000_000;

function leaderVerdict(view: ClusterView): Verdict {
  const leaders: { node: NodeId; state: RaftInspect }[] = [];
  for (const node of view.servers) {
    const state = serverState(view, node);
    if (state?.role === 'leader') {
      leaders.push({ node, state });
    }
  }
  const end = formatTime(view.timeUs);
  if (leaders.length !== 1) {
    const named = leaders.map(({ node, state }) => `${view.name(node)} (term ${state.term})`);
    const found =
      leaders.length === 0 ? 'no leader' : `${leaders.length} leaders: ${named.join(', ')}`;
    return `after the settle phase, at ${end}, there is ${found}; a healed cluster must settle on exactly one`;
  }
  const { node: leader, state: leading } = leaders[0] as { node: NodeId; state: RaftInspect };
  for (const node of leading.voters) {
    const state = serverState(view, node);
    if (state !== undefined && state.term !== leading.term) {
      return `after the settle phase, at ${end}, ${view.name(node)} is at term ${state.term} while ${view.name(leader)} leads term ${leading.term}: a voter has not caught up with the leader`;
    }
  }
  return undefined;
}

/**
 * After faults stop: (a) exactly one running server leads, and every running voter is at its
 * term; (b) when the run has clients, a command committed after the settle phase began (one
 * above everything committed before it) is applied within commitWithinUs. Without clients no
 * new command can commit: a plan shrunk to none must not fail for want of traffic.
 */
export function raftLivenessInvariant(
  options: RaftLivenessOptions & PerGroupOptions = {},
): Invariant {
  const [perGroup] = raftInvariantsPerGroup(() => [livenessForOneGroup(options)], options);
  return perGroup as Invariant;
}

function livenessForOneGroup(options: RaftLivenessOptions): Invariant {
  const commitWithinUs = options.commitWithinUs ?? DEFAULT_COMMIT_WITHIN_US;
  let settleStartUs = options.settleStartUs;
  let committedBeforeSettle = 0;
  let firstNewCommand: (Source & { index: number }) | undefined;

  const progressVerdict = (view: ClusterView, start: number): Verdict => {
    const began = `the settle phase began at ${formatTime(start)}`;
    if (firstNewCommand === undefined) {
      return `${began}, but by the end (${formatTime(view.timeUs)}) no new command was applied (everything applied was at or below index ${committedBeforeSettle}, committed before it): the cluster did not recover`;
    }
    const tookUs = firstNewCommand.timeUs - start;
    if (tookUs > commitWithinUs) {
      return `${began}, but the first new command (index ${firstNewCommand.index}, applied by ${at(view, firstNewCommand)}) took ${formatTime(tookUs)}, more than the ${formatTime(commitWithinUs)} allowed`;
    }
    return undefined;
  };

  return {
    name: 'liveness-after-settle',
    onObservation(record, view) {
      if (settleStartUs === undefined && view.phase === 'settle') {
        settleStartUs = record.timeUs;
      }
      const observation = raftObservation(record);
      const settled = settleStartUs !== undefined && record.timeUs >= settleStartUs;
      if (observation.type === 'committed' && !settled) {
        committedBeforeSettle = Math.max(committedBeforeSettle, observation.index);
      }
      const fresh =
        observation.type === 'applied' &&
        observation.kind === 'command' &&
        observation.index > committedBeforeSettle;
      if (fresh && settled && firstNewCommand === undefined) {
        firstNewCommand = { node: record.node, timeUs: record.timeUs, index: observation.index };
      }
      return undefined;
    },
    atEnd(view, observations) {
      // Servers that refused after media faults are down for good: judged only while the
      // rest still make a majority.
      if (quorumLostToMediaFaults(view, observations) !== undefined) {
        return undefined;
      }
      if (settleStartUs === undefined) {
        return view.phase === 'settle'
          ? `no server reported anything after the settle phase began (run ended at ${formatTime(view.timeUs)}): the cluster is dead`
          : undefined; // the run never reached the settle phase: nothing to judge
      }
      return (
        leaderVerdict(view) ??
        (view.clients.length > 0 ? progressVerdict(view, settleStartUs) : undefined)
      );
    },
  };
}

// ---- sometimes ------------------------------------------------------------------------------

/** For scenarios with lease reads: the fast path was taken at least once. */
export const raftLeaseSometimes: Readonly<Record<string, (record: ObservationRecord) => boolean>> =
  {
    'a leader answered a read under its lease': (record) =>
      record.observation.type === 'lease-read',
  };

/**
 * For scenarios with media faults (bit rot, misdirected writes): some server found its synced
 * data damaged at a restart and refused to start, so the refusal path is exercised.
 */
export const raftMediaFaultSometimes: Readonly<
  Record<string, (record: ObservationRecord) => boolean>
> = {
  'a server refused to start on damaged synced data': (record) =>
    record.observation.type === 'corruption-detected',
};

/** How long before the end an entry may have committed and a voter still be applying it. */
export const DEFAULT_CATCH_UP_US = 2_000_000;

/**
 * After faults stop, every running voter of the leader's configuration catches up: by the
 * end it has applied every entry the leader had committed `catchUpUs` before the end. A
 * healed network leaves nothing to excuse a follower stuck behind — a snapshot transfer that
 * never finishes, a probe that never backs up, a node that went mute — which
 * liveness-after-settle misses as long as a majority commits. Judged only when the run ends
 * with exactly one leader (liveness-after-settle fails the rest) and only while the servers
 * that refused after media faults leave a majority.
 */
export function raftVotersCatchUp(
  options: { catchUpUs?: number } & PerGroupOptions = {},
): Invariant {
  const [perGroup] = raftInvariantsPerGroup(() => [votersCatchUpForOneGroup(options)], options);
  return perGroup as Invariant;
}

function votersCatchUpForOneGroup(options: { catchUpUs?: number }): Invariant {
  const catchUpUs = options.catchUpUs ?? DEFAULT_CATCH_UP_US;
  /** The leaders' commits, as (time, index) with the index rising: at most one per entry. */
  const commits: { timeUs: number; index: number }[] = [];
  return {
    name: 'voters-catch-up-after-settle',
    onObservation(record) {
      const observation = raftObservation(record);
      const last = commits[commits.length - 1];
      if (
        observation.type === 'committed' &&
        observation.leaderTerm !== null &&
        observation.index > (last?.index ?? 0)
      ) {
        commits.push({ timeUs: record.timeUs, index: observation.index });
      }
      return undefined;
    },
    atEnd(view, observations) {
      if (view.phase !== 'settle' || quorumLostToMediaFaults(view, observations) !== undefined) {
        return undefined;
      }
      const leaders = view.servers.filter((node) => serverState(view, node)?.role === 'leader');
      if (leaders.length !== 1) {
        return undefined;
      }
      const leader = leaders[0] as NodeId;
      const leading = serverState(view, leader) as RaftInspect;
      const byUs = view.timeUs - catchUpUs;
      let owed: { timeUs: number; index: number } | undefined;
      for (let at = commits.length - 1; at >= 0; at--) {
        const commit = commits[at] as { timeUs: number; index: number };
        if (commit.timeUs <= byUs) {
          owed = commit;
          break;
        }
      }
      if (owed === undefined) {
        return undefined;
      }
      for (const node of leading.voters) {
        const state = serverState(view, node);
        if (state !== undefined && state.appliedIndex < owed.index) {
          return `after the settle phase, at ${formatTime(view.timeUs)}, voter ${view.name(node)} has applied up to index ${state.appliedIndex} (commit index ${state.commitIndex}, log ${state.firstIndex}–${state.lastIndex}, snapshot ${state.snapshotIndex}), but index ${owed.index} was committed at ${formatTime(owed.timeUs)}, ${formatTime(catchUpUs)} before the end, and ${view.name(leader)} leads term ${leading.term}: a running voter did not catch up in a healed network`;
        }
      }
      return undefined;
    },
  };
}

/**
 * What a swarm whose RaftClients propose reaches in some run of a campaign: a client took an
 * acknowledgement. A client that never does leaves acked-never-lost nothing to check.
 */
export const raftClientSometimes: Readonly<Record<string, (record: ObservationRecord) => boolean>> =
  {
    'a proposal was acknowledged': (record) => record.observation.type === 'proposal-acked',
  };

/** Where the clients also read (a `readPercent` in the workload): a read was answered. */
export const raftClientReadSometimes: Readonly<
  Record<string, (record: ObservationRecord) => boolean>
> = {
  'a read was answered': (record) => record.observation.type === 'read-answered',
};

/** Conditions a Raft scenario should reach on some seeds, so a fault that never fires shows. */
export const raftSometimes: Readonly<Record<string, (record: ObservationRecord) => boolean>> = {
  // The core reports stepped-down only when a leader gives up leadership.
  'a leader was deposed': (record) => record.observation.type === 'stepped-down',
  'a snapshot was installed': (record) => record.observation.type === 'snapshot-installed',
  'a torn tail was recovered': (record) => record.observation.type === 'torn-tail-recovered',
  // A config entry reaching a state machine: the change is committed, not merely proposed.
  'a membership change completed': (record) => {
    const observation = raftObservation(record);
    return observation.type === 'applied' && observation.kind === 'config';
  },
};
