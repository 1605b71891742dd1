// Availability during faults, as a bounded property: safety is judged always and liveness only
// after the settle phase, so a leader that keeps acting as leader while it cannot hear from a
// quorum passes both — and holds its clients, which keep talking to a leader that can commit
// nothing. A leader cut off from a quorum must stop leading (check-quorum) within a few
// election timeouts of running time.
//
// "Cut off" is judged from the plan's partition timeline alone, conservatively: a voter counts
// as heard unless the link from it to the leader is cut (crashed or paused voters count as
// heard, so the property can only be weaker than the truth). The leader's own pauses do not
// count (it ticks no check while frozen), and each resume starts the count again (messages
// held during a pause are handled at once on resume and count as heard).
//
// In the raft and kv swarms. It once fired on the correct Raft during membership changes:
// each stretch was judged by the leader's latest voters, so a removal that took a leader's
// quorum away re-judged the whole partition before it. Each stretch now counts the voters of
// its own time. It catches leader-never-steps-down in the raft swarm within a few seeds.
import { assert } from '../sim/assert.ts';
import { Topology } from '../sim/topology.ts';
import {
  type FaultKind,
  type HistoryOperation,
  type Invariant,
  MEDIA_FAULT_KINDS,
  type NodeId,
  type Plan,
} from '../sim/types.ts';
import { formatTime, raftObservation, serverState } from './raft-common.ts';

export interface LeaderStepDownOptions {
  readonly tickUs: number;
  readonly electionTicks: number;
  /** The bound in election timeouts of running time (default 4). */
  readonly electionTimeouts?: number;
  /** The largest clock-rate error the plan may draw, in ppm (default 2,000, the swarm's). */
  readonly driftPpmMax?: number;
}

/**
 * The bound: check-quorum runs every electionTicks ticks and the first check after the cut may
 * still pass on acknowledgements from before it, so a correct leader steps down within 2
 * election timeouts and a tick. The default of 4 leaves room for slow clocks, and buggify's
 * lost ticks (with probability p a tick is dropped) stretch it by 1 / (1 − p).
 */
export function stepDownBoundUs(plan: Plan, options: LeaderStepDownOptions): number {
  const timeoutUs = options.electionTicks * options.tickUs;
  const lost = Math.min(plan.knobs.buggifyProbability, 0.5);
  const drift = 1 + (2 * (options.driftPpmMax ?? 2000)) / 1_000_000;
  return (
    Math.ceil(((options.electionTimeouts ?? 4) * timeoutUs * drift) / (1 - lost)) + options.tickUs
  );
}

interface Segment {
  readonly fromUs: number;
  readonly toUs: number;
  readonly cut: ReadonlySet<number>; // from * 65536 + to
}

/** The plan's partitions as segments of constant cut links, in the fault phase. */
function cutTimeline(plan: Plan): Segment[] {
  const events = plan.faults
    .map((fault, index) => ({ fault, index }))
    .filter(
      ({ fault }) =>
        (fault.kind === 'partition' || fault.kind === 'heal') && fault.atUs < plan.durationUs,
    )
    .sort((a, b) => a.fault.atUs - b.fault.atUs || a.index - b.index);
  const segments: Segment[] = [];
  let cut = new Set<number>();
  let fromUs = 0;
  for (const { fault } of events) {
    if (fault.atUs > fromUs && cut.size > 0) {
      segments.push({ fromUs, toUs: fault.atUs, cut });
    }
    fromUs = fault.atUs;
    cut =
      fault.kind === 'partition' ? new Set(fault.links.map(([a, b]) => a * 65536 + b)) : new Set();
  }
  if (cut.size > 0 && plan.durationUs > fromUs) {
    segments.push({ fromUs, toUs: plan.durationUs, cut });
  }
  return segments;
}

/** [from, to) intervals in which a node is paused (the settle phase resumes everyone). */
function pauses(plan: Plan, node: NodeId): [number, number][] {
  return plan.faults
    .filter(
      (fault) => fault.kind === 'pause' && fault.node === node && fault.atUs < plan.durationUs,
    )
    .map((fault) => {
      const durationUs = fault.kind === 'pause' ? fault.durationUs : 0;
      return [fault.atUs, Math.min(fault.atUs + durationUs, plan.durationUs)] as [number, number];
    });
}

/** The voters a leader counted from `fromUs` on (until the next entry's `fromUs`). */
interface VoterSpan {
  readonly fromUs: number;
  readonly voters: readonly NodeId[];
}

interface Leadership {
  readonly node: NodeId;
  readonly term: number;
  readonly sinceUs: number;
  /**
   * Each configuration the leader held, from when it was first seen: a stretch is judged by
   * the voters of its own time, never by a later configuration (a change that leaves the
   * leader without a quorum starts the count at the change, not at the partition).
   */
  readonly voterSpans: VoterSpan[];
  /** When this leadership is next judged while it lasts (judging at every observation doubled a raft seed's cost). */
  nextJudgeUs: number;
}

const VOTER_SPANS_MAX = 10_000;

function sameVoters(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((voter, at) => voter === b[at]);
}

export function leaderStepsDownWithoutQuorum(
  plan: Plan,
  options: LeaderStepDownOptions,
): Invariant {
  const boundUs = stepDownBoundUs(plan, options);
  const timeline = cutTimeline(plan);
  // The end of a stepped-down observation may trail the step-down by the fsync in flight.
  const lagUs = 2 * plan.knobs.fsyncLatencyMaxUs;
  const leaders = new Map<NodeId, Leadership>();
  const frozenOf = new Map<NodeId, [number, number][]>();
  const frozenFor = (node: NodeId) => {
    let frozen = frozenOf.get(node);
    if (frozen === undefined) {
      frozen = pauses(plan, node);
      frozenOf.set(node, frozen);
    }
    return frozen;
  };
  /** Whether any cut lies inside [fromUs, toUs): most leaderships see none, and need no count. */
  const anyCutWithin = (fromUs: number, toUs: number) =>
    timeline.some((segment) => segment.toUs > fromUs && segment.fromUs < toUs);

  /** The longest running stretch inside [fromUs, toUs] in which `l` heard from no quorum. */
  const longestCutOff = (
    l: Leadership,
    fromUs: number,
    toUs: number,
  ): [number, number] | undefined => {
    const frozen = frozenFor(l.node);
    let best: [number, number] | undefined;
    let runStart = -1;
    let runEnd = -1;
    const close = () => {
      if (runStart >= 0) {
        const length = runningUs(runStart, runEnd, frozen);
        if (best === undefined || length > runningUs(best[0], best[1], frozen)) {
          best = [runStart, runEnd];
        }
      }
      runStart = -1;
    };
    for (const segment of timeline) {
      for (const [at, span] of l.voterSpans.entries()) {
        const spanEndUs = l.voterSpans[at + 1]?.fromUs ?? Number.MAX_SAFE_INTEGER;
        const a = Math.max(segment.fromUs, fromUs, span.fromUs);
        const b = Math.min(segment.toUs, toUs, spanEndUs);
        if (a >= b) {
          continue;
        }
        const { voters } = span;
        let heard = voters.includes(l.node) ? 1 : 0;
        for (const voter of voters) {
          if (voter !== l.node && !segment.cut.has(voter * 65536 + l.node)) {
            heard++;
          }
        }
        if (heard >= Math.floor(voters.length / 2) + 1) {
          close();
          continue;
        }
        if (runStart >= 0 && runEnd === a) {
          runEnd = b;
        } else {
          close();
          runStart = a;
          runEnd = b;
        }
      }
    }
    close();
    return best !== undefined && runningUs(best[0], best[1], frozen) >= boundUs ? best : undefined;
  };

  const judge = (
    l: Leadership,
    toUs: number,
    still: boolean,
    view: Parameters<NonNullable<Invariant['onObservation']>>[1],
  ) => {
    const stretch = longestCutOff(l, l.sinceUs, toUs);
    if (stretch === undefined) {
      return undefined;
    }
    return `${view.name(l.node)} ${still ? 'is still' : 'stayed'} leader of term ${l.term} through ${formatTime(stretch[0])}–${formatTime(stretch[1])} while the partition let it hear from fewer than a majority of its ${l.voterSpans.at(-1)?.voters.length ?? 0} voters: a leader without a quorum must step down within ${formatTime(boundUs)} of running time (check-quorum), not keep holding clients that it can never answer`;
  };

  const noteVoters = (l: Leadership, atUs: number, voters: readonly NodeId[]) => {
    const last = l.voterSpans.at(-1) as VoterSpan;
    if (sameVoters(last.voters, voters)) {
      return;
    }
    if (l.voterSpans.length >= VOTER_SPANS_MAX) {
      l.voterSpans.shift(); // forgets the oldest configuration: judges less, never more
    }
    l.voterSpans.push({ fromUs: atUs, voters });
  };

  if (timeline.length === 0) {
    // No partition in the fault phase: no leader is ever cut off, so there is nothing to watch.
    return { name: 'leader-steps-down-without-quorum' };
  }
  return {
    name: 'leader-steps-down-without-quorum',
    onObservation(record, view) {
      const observation = raftObservation(record);
      if (observation.type === 'became-leader') {
        const voters = serverState(view, record.node)?.voters ?? [];
        leaders.set(record.node, {
          node: record.node,
          term: observation.term,
          sinceUs: record.timeUs,
          voterSpans: [{ fromUs: record.timeUs, voters }],
          nextJudgeUs: record.timeUs,
        });
      } else if (observation.type === 'membership-changed') {
        const l = leaders.get(record.node);
        if (l !== undefined) {
          noteVoters(l, record.timeUs, observation.voters); // the exact time of the change
        }
      } else if (observation.type === 'stepped-down') {
        const l = leaders.get(record.node);
        leaders.delete(record.node);
        if (l !== undefined && l.term === observation.term) {
          const verdict = judge(l, record.timeUs - lagUs, false, view);
          if (verdict !== undefined) {
            return verdict;
          }
        }
      } else if (observation.type === 'restarted') {
        leaders.delete(record.node); // it lost leadership at a crash we cannot date
      }
      for (const l of leaders.values()) {
        // Judged once a tick at most: a stretch is only found a tick later than it could be,
        // against a bound of several election timeouts.
        if (view.timeUs < l.nextJudgeUs) {
          continue;
        }
        l.nextJudgeUs = view.timeUs + options.tickUs;
        if (!anyCutWithin(l.sinceUs, view.timeUs)) {
          continue;
        }
        const state = serverState(view, l.node);
        if (state === undefined || state.role !== 'leader' || state.term !== l.term) {
          continue; // not provably the same leadership any more
        }
        noteVoters(l, record.timeUs, state.voters);
        const verdict = judge(l, view.timeUs, true, view);
        if (verdict !== undefined) {
          return verdict;
        }
      }
      return undefined;
    },
  };
}

/** Time in [from, to) outside the pauses; the count restarts after each pause that ends inside. */
function runningUs(fromUs: number, toUs: number, frozen: readonly [number, number][]): number {
  let start = fromUs;
  let longest = 0;
  const inside = frozen.filter(([a, b]) => b > fromUs && a < toUs).sort((x, y) => x[0] - y[0]);
  for (const [a, b] of inside) {
    longest = Math.max(longest, Math.max(0, a - start));
    start = Math.max(start, b);
  }
  return Math.max(longest, toUs - start);
}

// ---- a client that reaches a majority gets an answer ---------------------------------------

export interface BoundedAnswerOptions {
  /** The server group the clients talk to (one Raft group). */
  readonly group: string;
  /** How long an operation may take while the client and a majority are up and connected. */
  readonly boundUs: number;
  /** Which history operations are judged (default: all). */
  readonly judged?: (op: HistoryOperation) => boolean;
  /** When the client gives up on an operation (it stays open, unanswered, from then on). */
  readonly giveUpUs: number;
}

/** The client's give-up runs on its own clock, which the swarm may run slow: keep clear of it. */
const GIVE_UP_MARGIN = 0.9;

/**
 * A failed fsync kills a process at its next fsync, which the supervisor restarts 50 ms later
 * (sim/simulation.ts): neither time is in the plan, so a window that follows an fsync-error by
 * less than this is not judged.
 */
const FSYNC_DEATH_SHADOW_US = 500_000;

/** Why a seed's network is too random for a bound: the knob that makes it so, if one does. */
function randomLoss(plan: Plan): string | undefined {
  const { knobs } = plan;
  if (knobs.dropProbability > 0) {
    return 'drops';
  }
  if (knobs.latencyTailProbability > 0 && knobs.latencyTailMultiplier > 1) {
    return 'a latency tail';
  }
  if (knobs.buggifyProbability > 0) {
    return 'buggify';
  }
  // Not read corruption: a corrupted read is read again (systems/stable-read.ts), and one that
  // kills the process needs several in a row at ≤ 1 %, then costs a 50 ms supervisor restart.
  return undefined;
}

/** Who is usable and what is cut, from one fault event to the next. */
interface NetworkState {
  readonly fromUs: number;
  readonly down: ReadonlySet<NodeId>;
  readonly pausedUntilUs: ReadonlyMap<NodeId, number>;
  readonly cut: ReadonlySet<number>; // from * 65536 + to
}

/** The plan's fault list replayed into states, one per fault event time (sorted). */
function networkStates(plan: Plan): NetworkState[] {
  const faults = plan.faults
    .map((fault, index) => ({ fault, index }))
    .sort((a, b) => a.fault.atUs - b.fault.atUs || a.index - b.index);
  const states: NetworkState[] = [
    { fromUs: 0, down: new Set(), pausedUntilUs: new Map(), cut: new Set() },
  ];
  for (const { fault } of faults) {
    const last = states.at(-1) as NetworkState;
    const down = new Set(last.down);
    const pausedUntilUs = new Map(last.pausedUntilUs);
    let cut = last.cut;
    switch (fault.kind) {
      case 'crash':
        down.add(fault.node);
        break;
      case 'restart':
        down.delete(fault.node);
        break;
      case 'pause':
        pausedUntilUs.set(fault.node, fault.atUs + fault.durationUs);
        break;
      case 'partition':
        cut = new Set(fault.links.map(([from, to]) => from * 65536 + to));
        break;
      case 'heal':
        cut = new Set();
        break;
      default:
        break;
    }
    const next = { fromUs: fault.atUs, down, pausedUntilUs, cut };
    if (last.fromUs === fault.atUs) {
      states[states.length - 1] = next; // several faults at one instant: the state after all
    } else {
      states.push(next);
    }
  }
  return states;
}

/**
 * Availability during faults, the client's side: an operation whose client and some majority
 * of the group stay up, unpaused and connected both ways for the whole bound — whatever
 * happens to the other servers — is answered within the bound. Safety and the after-settle
 * liveness check both pass a service that leaves such a client waiting (a client that keeps
 * trying a silent server, a leader that holds it without a quorum).
 *
 * Not judged either while a server outside that majority may hold a quorum of its own (a
 * bridge partition: the leader keeps it through the bridging server, which then refuses the
 * client's side a new leader under pre-vote — Raft's known price for check-quorum).
 * Judged only where the bound is a fact, not a bet: seeds with random loss (drops, a latency
 * tail, buggify) are skipped, since retries over a lossy link have no bound; a node with an
 * fsync-error near the window is not counted on (it dies at an fsync and the supervisor
 * restarts it, at times the plan does not hold), nor one a media fault hit before the window
 * ends (it may refuse to start at its next restart), nor a client whose clock jumps (its
 * give-up runs on that clock). States come from the plan's fault list.
 */
export function answersWhileMajorityReachable(
  plan: Plan,
  options: BoundedAnswerOptions,
): Invariant {
  const name = 'answers-while-majority-reachable';
  if (randomLoss(plan) !== undefined) {
    return { name };
  }
  const topology = Topology.of(plan);
  const group = topology.groups.find((candidate) => candidate.name === options.group);
  assert(group !== undefined, `answersWhileMajorityReachable: no group ${options.group}`);
  const servers = group.members;
  assert(servers.length <= 16, 'a Raft group of at most 16 servers');
  const majority = Math.floor(servers.length / 2) + 1;
  const states = networkStates(plan);
  const unreliableAt = (node: NodeId, fromUs: number, toUs: number) =>
    plan.faults.some(
      (fault) =>
        (fault.kind === 'fsync-error' &&
          fault.node === node &&
          fault.atUs > fromUs - FSYNC_DEATH_SHADOW_US &&
          fault.atUs <= toUs) ||
        // A server a media fault hit may refuse to start at its next restart, and then stays
        // out for good (its synced data is damaged): not counted on from the fault on.
        (MEDIA_FAULT_KINDS.includes(fault.kind as FaultKind) &&
          'node' in fault &&
          fault.node === node &&
          fault.atUs <= toUs) ||
        (fault.kind === 'clock-jump' &&
          fault.node === node &&
          topology.clients.includes(node) &&
          fault.atUs > fromUs &&
          fault.atUs <= toUs),
    );
  /** The index of the state in force at `atUs`. */
  const stateIndexAt = (atUs: number): number => {
    let low = 0;
    let high = states.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((states[middle] as NetworkState).fromUs <= atUs) {
        low = middle;
      } else {
        high = middle - 1;
      }
    }
    return low;
  };
  const usable = (state: NetworkState, node: NodeId, atUs: number) =>
    !state.down.has(node) && (state.pausedUntilUs.get(node) ?? 0) <= atUs;
  const linked = (state: NetworkState, a: NodeId, b: NodeId) =>
    !state.cut.has(a * 65536 + b) && !state.cut.has(b * 65536 + a);

  /**
   * Whether a server outside `subset` may hold a quorum of its own: a leader there keeps
   * leading (check-quorum passes) and, with pre-vote, the servers that still hear it refuse to
   * elect another — a bridge partition that leaves the client's majority leaderless, correctly.
   * Counted generously (a link open either way counts), so that such a window is never judged.
   */
  const outsiderMayLead = (state: NetworkState, subset: readonly NodeId[]) =>
    servers.some((x) => {
      // A paused server counts: it may resume inside the window still believing it leads.
      if (subset.includes(x) || state.down.has(x)) {
        return false;
      }
      let heard = 1;
      for (const y of servers) {
        const open = !state.cut.has(x * 65536 + y) || !state.cut.has(y * 65536 + x);
        if (y !== x && !state.down.has(y) && open) {
          heard++;
        }
      }
      return heard >= majority;
    });

  /**
   * The largest majority that stays, with `client`, up, unpaused and connected both ways from
   * `fromUs` to `toUs`, through every state in between; undefined when none does.
   */
  const steadyMajority = (client: NodeId, fromUs: number, toUs: number): NodeId[] | undefined => {
    if (unreliableAt(client, fromUs, toUs)) {
      return undefined;
    }
    const window: { state: NetworkState; atUs: number }[] = [];
    for (let at = stateIndexAt(fromUs); at < states.length; at++) {
      const state = states[at] as NetworkState;
      if (state.fromUs > toUs) {
        break;
      }
      window.push({ state, atUs: Math.max(state.fromUs, fromUs) });
    }
    const steady = (node: NodeId) =>
      window.every(({ state, atUs }) => usable(state, node, atUs) && linked(state, node, client));
    if (!steady(client)) {
      return undefined;
    }
    const candidates = servers.filter((node) => !unreliableAt(node, fromUs, toUs) && steady(node));
    let best: NodeId[] | undefined;
    for (let mask = 1; mask < 1 << candidates.length; mask++) {
      const subset = candidates.filter((_, at) => (mask & (1 << at)) !== 0);
      if (subset.length < majority || (best !== undefined && subset.length <= best.length)) {
        continue;
      }
      const connected = window.every(
        ({ state }) =>
          subset.every((a, i) => subset.slice(i + 1).every((b) => linked(state, a, b))) &&
          !outsiderMayLead(state, subset),
      );
      if (connected) {
        best = subset;
      }
    }
    return best;
  };

  return {
    name,
    atEnd(view) {
      const { boundUs } = options;
      for (const op of view.history) {
        if (options.judged !== undefined && !options.judged(op)) {
          continue;
        }
        const answeredUs = op.returnUs ?? Number.POSITIVE_INFINITY;
        // Past the client's own give-up the operation is not waited for any more, and the
        // settle phase has its own liveness check.
        const limitUs = Math.min(plan.durationUs, op.callUs + options.giveUpUs * GIVE_UP_MARGIN);
        // The state only changes at fault events: the earliest moment of each state is the
        // one that leaves the bound most room.
        const starts = [op.callUs];
        for (let at = stateIndexAt(op.callUs) + 1; at < states.length; at++) {
          const fromUs = (states[at] as NetworkState).fromUs;
          if (fromUs >= Math.min(answeredUs, limitUs)) {
            break;
          }
          starts.push(fromUs);
        }
        for (const startUs of starts) {
          const windowEndUs = startUs + boundUs;
          if (windowEndUs > limitUs || answeredUs <= windowEndUs) {
            break;
          }
          const reachable = steadyMajority(op.client, startUs, windowEndUs);
          if (reachable === undefined) {
            continue;
          }
          const answered =
            op.returnUs === undefined
              ? 'was never answered'
              : `was answered only at ${formatTime(op.returnUs)}`;
          const since = startUs === op.callUs ? 'the call' : formatTime(startUs);
          return `${view.name(op.client)}'s operation ${JSON.stringify(op.input)}, called at ${formatTime(op.callUs)}, ${answered}, though from ${since} on ${view.name(op.client)} and a majority of ${options.group} (${reachable.map((node) => view.name(node)).join(', ')}) were up, unpaused and connected for ${formatTime(boundUs)}: a client that can reach a majority must get an answer`;
        }
      }
      return undefined;
    },
  };
}
