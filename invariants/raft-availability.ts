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
import type { Invariant, NodeId, Plan } from '../sim/types.ts';
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
