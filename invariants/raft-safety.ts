// Raft's safety properties (Ongaro & Ousterhout, Figure 3) and their supporting checks, as
// online invariants over the adapter's observations plus a god's-eye read of the observing
// node. Observations arrive once the batch that produced them is durable, so a node's
// inspected state may already be ahead of the observation; each check below only relies on
// facts that stay true as the node moves on (terms grow, committed entries stay).
import { fail } from '../sim/assert.ts';
import type { ClusterView, Invariant, NodeId, ObservationRecord, Verdict } from '../sim/types.ts';
import {
  at,
  CommittedEntries,
  formatDigest,
  formatTime,
  PerNode,
  type RaftInspect,
  raftObservation,
  type Source,
  serverState,
} from './raft-common.ts';

function sourceOf(record: ObservationRecord): Source {
  return { node: record.node, timeUs: record.timeUs };
}

function who(view: ClusterView, record: ObservationRecord): string {
  return at(view, sourceOf(record));
}

// ---- 1. election safety ---------------------------------------------------------------------

/** At most one leader per term. */
export function electionSafety(): Invariant {
  const leaders = new Map<number, Source>();
  return {
    name: 'election-safety',
    observes: ['became-leader'],
    onObservation(record, view) {
      const observation = raftObservation(record);
      if (observation.type !== 'became-leader') {
        return undefined;
      }
      const first = leaders.get(observation.term);
      if (first === undefined) {
        leaders.set(observation.term, sourceOf(record));
        return undefined;
      }
      if (first.node === record.node) {
        return undefined;
      }
      return `${view.name(record.node)} became leader of term ${observation.term} at ${formatTime(record.timeUs)}, but ${at(view, first)} already had: two leaders in one term means a vote was granted twice or votes were miscounted`;
    },
  };
}

// ---- 2. leader append-only ------------------------------------------------------------------

/**
 * A leader never truncates its own log. Leadership is tracked from the node's own observations
 * (became-leader until stepped-down or a restart) rather than from inspect(): observations of a
 * node arrive in the order its core produced them, while inspect() may already show a later
 * role, so the tracked role is the one in force when the truncation happened.
 */
export function leaderAppendOnly(): Invariant {
  const leading = new PerNode(-1); // the term a node leads, or -1
  return {
    name: 'leader-append-only',
    observes: ['became-leader', 'stepped-down', 'restarted', 'log-truncated'],
    onObservation(record, view) {
      const observation = raftObservation(record);
      switch (observation.type) {
        case 'became-leader':
          leading.set(record.node, observation.term);
          return undefined;
        case 'stepped-down':
        case 'restarted':
          leading.set(record.node, -1);
          return undefined;
        case 'log-truncated': {
          const term = leading.get(record.node);
          if (term < 0) {
            return undefined;
          }
          return `${who(view, record)} truncated its log from index ${observation.from} while it was leader of term ${term}: a leader only appends (did it accept entries or a snapshot from a stale leader?)`;
        }
        default:
          return undefined;
      }
    },
  };
}

// ---- 3. log matching ------------------------------------------------------------------------

interface SeenEntry extends Source {
  readonly digest: number;
  /** The term of the entry before it (undefined when that was compacted away). */
  readonly prevTerm: number | undefined;
}

/** Most log entries checked per observation; the rest are checked on later ones. */
const LOG_CHECK_PER_OBSERVATION_MAX = 256;
/** Terms stay below this so (index, term) packs into one safe integer. */
const TERM_LIMIT = 2 ** 21;

function entryKey(index: number, term: number): number {
  if (!(term >= 0 && term < TERM_LIMIT)) {
    fail(`term ${term} is out of the supported range`);
  }
  return index * TERM_LIMIT + term;
}

/**
 * Entries with the same (index, term) hold the same data and follow entries of the same term.
 * The second half makes the check inductive: if every (i, t) has one digest and one predecessor
 * term, two logs agreeing at (i, t) agree on the whole prefix, which is Log Matching.
 * Each log's terms also never decrease along it (what every leader's appends preserve).
 * Incremental: each node's log is read once, above the highest index already checked on it.
 */
export function logMatching(): Invariant {
  const seen = new Map<number, SeenEntry>();
  const checked = new PerNode(0); // per node: entries at or below this index were checked

  const checkEntry = (
    view: ClusterView,
    record: ObservationRecord,
    state: RaftInspect,
    index: number,
  ): Verdict => {
    const term = state.termAt(index);
    const digest = state.digestAt(index);
    if (term === undefined || digest === undefined) {
      return undefined; // compacted meanwhile: the snapshot covers it
    }
    const prevTerm = state.termAt(index - 1);
    if (prevTerm !== undefined && prevTerm > term) {
      // Leaders append only at their own term over a prefix from earlier leaders, so terms
      // along any log never fall; a fall means an old suffix survived a newer leader's entries.
      return `${who(view, record)} holds entry ${index} of term ${term} right after entry ${index - 1} of term ${prevTerm}: terms along a log never decrease, so a stale suffix outlived a newer leader's entries (a conflict not truncated?)`;
    }
    const key = entryKey(index, term);
    const known = seen.get(key);
    if (known === undefined) {
      // A literal, not { ...sourceOf(record) }: one object per log entry instead of two.
      seen.set(key, { node: record.node, timeUs: record.timeUs, digest, prevTerm });
      return undefined;
    }
    if (known.digest !== digest) {
      return `${who(view, record)} holds entry ${index} of term ${term} with digest ${formatDigest(digest)}, but ${at(view, known)} held entry ${index} of term ${term} with digest ${formatDigest(known.digest)}: two different entries share an index and term`;
    }
    if (prevTerm !== undefined && known.prevTerm !== undefined && prevTerm !== known.prevTerm) {
      return `${who(view, record)} and ${at(view, known)} both hold entry ${index} of term ${term}, but their entries ${index - 1} have terms ${prevTerm} and ${known.prevTerm}: the logs differ before a matching entry (an append skipped its consistency check?)`;
    }
    return undefined;
  };

  /**
   * Checks the node's entries above its checked mark, and `spot` again whatever the mark: a log
   * rewritten in place without a log-truncated observation is still caught where it matters.
   */
  const checkNewEntries = (record: ObservationRecord, view: ClusterView, spot: number): Verdict => {
    const state = serverState(view, record.node);
    if (state === undefined) {
      return undefined;
    }
    if (spot >= state.firstIndex && spot <= Math.min(state.lastIndex, checked.get(record.node))) {
      const verdict = checkEntry(view, record, state, spot);
      if (verdict !== undefined) {
        return verdict;
      }
    }
    const from = Math.max(checked.get(record.node) + 1, state.firstIndex);
    const to = Math.min(state.lastIndex, from + LOG_CHECK_PER_OBSERVATION_MAX - 1);
    for (let index = from; index <= to; index++) {
      const verdict = checkEntry(view, record, state, index);
      if (verdict !== undefined) {
        return verdict;
      }
    }
    checked.set(record.node, Math.max(checked.get(record.node), to));
    return undefined;
  };

  return {
    name: 'log-matching',
    observes: ['committed', 'became-leader', 'log-truncated', 'restarted'],
    onObservation(record, view) {
      const observation = raftObservation(record);
      switch (observation.type) {
        case 'committed':
          return checkNewEntries(record, view, observation.index);
        case 'became-leader':
          return checkNewEntries(record, view, serverState(view, record.node)?.lastIndex ?? 0);
        case 'log-truncated':
          // The entries from `from` on will be rewritten: check them again.
          checked.lowerTo(record.node, observation.from - 1);
          return undefined;
        case 'restarted':
          // What was not durable is gone, and may come back different.
          checked.lowerTo(record.node, observation.lastIndex);
          return undefined;
        default:
          return undefined;
      }
    },
  };
}

// ---- 4. leader completeness -----------------------------------------------------------------

/** Most committed entries compared against a new leader's log per observation. */
const COMPLETENESS_CHECK_PER_OBSERVATION_MAX = 1 << 16;

/**
 * A leader of term t holds every entry committed in a term before t. Committed entries are
 * collected by the shared tracker; each node's log is compared once per entry, above the
 * highest index already verified on it (lowered again when its log is truncated or lost).
 */
export function leaderCompleteness(shared?: CommittedEntries): Invariant {
  const committed = shared ?? new CommittedEntries();
  const verified = new PerNode(0);

  const checkLeader = (record: ObservationRecord, view: ClusterView, term: number): Verdict => {
    const state = serverState(view, record.node);
    if (state === undefined) {
      return undefined;
    }
    const from = Math.max(verified.get(record.node), state.snapshotIndex) + 1;
    const to = Math.min(
      committed.committedBefore(term),
      from + COMPLETENESS_CHECK_PER_OBSERVATION_MAX - 1,
    );
    for (let index = from; index <= to; index++) {
      const entry = committed.entries.get(index);
      if (entry === undefined) {
        continue; // compacted before anyone collected it
      }
      const heldTerm = state.termAt(index);
      const heldDigest = state.digestAt(index);
      const wrongData =
        entry.digest !== undefined && heldDigest !== undefined && heldDigest !== entry.digest;
      if (heldTerm !== entry.term || wrongData) {
        const held =
          heldTerm === undefined
            ? `its log ends at ${state.lastIndex}`
            : `it holds term ${heldTerm}, digest ${formatDigest(heldDigest)} there`;
        return `${who(view, record)} became leader of term ${term} without committed entry ${index} (term ${entry.term}, digest ${formatDigest(entry.digest)}, committed per ${at(view, entry)}): ${held}; a committed entry was lost or an out-of-date candidate won`;
      }
    }
    verified.set(record.node, Math.max(verified.get(record.node), to));
    return undefined;
  };

  return {
    name: 'leader-completeness',
    // The shared tracker collects on `committed`; on other records update() only marks its
    // fresh range empty, which is read right after an update on a `committed` record.
    observes: ['committed', 'became-leader', 'log-truncated', 'restarted'],
    onObservation(record, view) {
      committed.update(record, view);
      const observation = raftObservation(record);
      switch (observation.type) {
        case 'became-leader':
          return checkLeader(record, view, observation.term);
        case 'log-truncated':
          verified.lowerTo(record.node, observation.from - 1);
          return undefined;
        case 'restarted':
          verified.lowerTo(record.node, observation.lastIndex);
          return undefined;
        default:
          return undefined;
      }
    },
  };
}

// ---- 5. state machine safety ----------------------------------------------------------------

interface AppliedEntry extends Source {
  readonly term: number;
  readonly digest: number;
}

/**
 * Every node and incarnation applies the same entry at each index, and it is the entry that
 * was committed there; a committed index never changes its term; a snapshot's last entry
 * agrees with the committed one.
 */
export function stateMachineSafety(shared?: CommittedEntries): Invariant {
  const committed = shared ?? new CommittedEntries();
  const applied = new Map<number, AppliedEntry>();

  const againstCommitted = (
    record: ObservationRecord,
    view: ClusterView,
    what: string,
    index: number,
    term: number,
    digest: number | undefined,
  ): Verdict => {
    const entry = committed.entries.get(index);
    if (entry === undefined) {
      return undefined;
    }
    const digestDiffers =
      digest !== undefined && entry.digest !== undefined && digest !== entry.digest;
    if (entry.term === term && !digestDiffers) {
      return undefined;
    }
    const digestText = digest === undefined ? '' : `, digest ${formatDigest(digest)}`;
    return `${who(view, record)} ${what} index ${index} with term ${term}${digestText}, but ${at(view, entry)} had committed term ${entry.term}, digest ${formatDigest(entry.digest)} there: a committed entry changed`;
  };

  // Applies of an index usually reach us before anyone's `committed` for it (the adapter
  // applies, then forwards the batch's events), so entries are compared when collected too.
  const appliedAgainstFresh = (view: ClusterView): Verdict => {
    for (let index = committed.freshFrom; index <= committed.freshTo; index++) {
      const entry = committed.entries.get(index);
      const first = applied.get(index);
      if (entry === undefined || first === undefined) {
        continue;
      }
      if (
        first.term !== entry.term ||
        (entry.digest !== undefined && entry.digest !== first.digest)
      ) {
        return `${at(view, first)} applied entry ${index} (term ${first.term}, digest ${formatDigest(first.digest)}), but ${at(view, entry)} committed term ${entry.term}, digest ${formatDigest(entry.digest)} there: a node applied an entry that was not the committed one`;
      }
    }
    return undefined;
  };

  const onApplied = (
    record: ObservationRecord,
    view: ClusterView,
    index: number,
    term: number,
    digest: number,
  ): Verdict => {
    const first = applied.get(index);
    if (first === undefined) {
      applied.set(index, { node: record.node, timeUs: record.timeUs, term, digest });
    } else if (first.digest !== digest || first.term !== term) {
      return `${who(view, record)} applied entry ${index} (term ${term}, digest ${formatDigest(digest)}), but ${at(view, first)} applied a different entry there (term ${first.term}, digest ${formatDigest(first.digest)}): state machines diverged`;
    }
    return againstCommitted(record, view, 'applied', index, term, digest);
  };

  return {
    name: 'state-machine-safety',
    observes: ['committed', 'applied', 'snapshot-applied'],
    onObservation(record, view) {
      committed.update(record, view);
      const observation = raftObservation(record);
      switch (observation.type) {
        case 'applied':
          return onApplied(record, view, observation.index, observation.term, observation.digest);
        case 'committed':
          return (
            againstCommitted(
              record,
              view,
              'committed',
              observation.index,
              observation.term,
              undefined,
            ) ?? appliedAgainstFresh(view)
          );
        case 'snapshot-applied': {
          const first = applied.get(observation.index);
          if (first !== undefined && first.term !== observation.term) {
            return `${who(view, record)} applied a snapshot through index ${observation.index} of term ${observation.term}, but ${at(view, first)} applied term ${first.term} at that index: the snapshot holds a different history`;
          }
          return againstCommitted(
            record,
            view,
            'applied a snapshot ending at',
            observation.index,
            observation.term,
            undefined,
          );
        }
        default:
          return undefined;
      }
    },
  };
}

// ---- 6. apply in order ----------------------------------------------------------------------

interface PendingSnapshot extends Source {
  readonly index: number;
  readonly previous: number;
}

/**
 * Per incarnation, applies are gap-free and strictly increasing from the snapshot; a snapshot
 * may move the state machine forward, never back; nothing is applied beyond the commit index.
 * At boot the adapter restores its snapshot (snapshot-applied) before it reports `restarted`,
 * so a backward snapshot is held until the node's next observation: if that is `restarted`
 * at the same snapshot index, it was the new incarnation's first step, not a step back.
 */
export function applyInOrder(): Invariant {
  const last = new PerNode(0); // per node: the last index its state machine holds
  const pending: (PendingSnapshot | undefined)[] = [];

  const backwards = (view: ClusterView, held: PendingSnapshot): string =>
    `${at(view, held)} applied a snapshot through ${held.index} after its state machine had reached ${held.previous}: a snapshot may move it forward, never back`;

  const onApplied = (record: ObservationRecord, view: ClusterView, index: number): Verdict => {
    const previous = last.get(record.node);
    last.set(record.node, index);
    if (index !== previous + 1) {
      const how =
        index <= previous ? 'again or backwards' : `skipping ${previous + 1}..${index - 1}`;
      return `${who(view, record)} applied entry ${index} right after ${previous}, ${how}: a state machine applies each entry once, in order`;
    }
    const state = serverState(view, record.node);
    if (state !== undefined && index > state.commitIndex) {
      return `${who(view, record)} applied entry ${index} but its commit index is only ${state.commitIndex}: it applied an entry before it was committed`;
    }
    return undefined;
  };

  const onSnapshot = (record: ObservationRecord, index: number): void => {
    const previous = last.get(record.node);
    if (index < previous) {
      pending[record.node] = { ...sourceOf(record), index, previous };
    }
    last.set(record.node, index);
  };

  return {
    name: 'apply-in-order',
    // No `observes`: a snapshot held back is judged on the node's next observation, whatever
    // its type.
    onObservation(record, view) {
      const observation = raftObservation(record);
      const held = pending[record.node];
      if (held !== undefined) {
        pending[record.node] = undefined;
        const booted = observation.type === 'restarted' && observation.snapshotIndex === held.index;
        if (!booted) {
          return backwards(view, held);
        }
      }
      switch (observation.type) {
        case 'restarted':
          last.set(record.node, observation.snapshotIndex);
          return undefined;
        case 'applied':
          return onApplied(record, view, observation.index);
        case 'snapshot-applied':
          onSnapshot(record, observation.index);
          return undefined;
        default:
          return undefined;
      }
    },
    atEnd(view) {
      const held = pending.find((item) => item !== undefined);
      return held === undefined ? undefined : backwards(view, held);
    },
  };
}

// ---- 7. terms never decrease ----------------------------------------------------------------

interface TermMark extends Source {
  readonly term: number;
  readonly what: string;
}

/**
 * What a node's restarts recorded while it has not yet been seen to act on them. A recovery
 * that finds a batch no sync mark covers re-syncs and marks it before the first Ready goes; an
 * incarnation that dies before then may lose that batch to a tear, or to a media fault on its
 * sector, which the next recovery cuts as a torn tail (raft seed 756622: term 2 read back
 * whole after a crash, the process dead again 0.8 ms into its recovery, then bit rot on that
 * sector). So a restart's term and vote are withdrawn when the next boot cuts a torn tail and
 * nothing was observed of the incarnation in between. A correct node that acted had covered
 * the batch first, and a media fault on a covered batch makes it refuse, not cut.
 */
class UnactedRestarts<T> {
  private readonly byNode: ({ readonly recorded: T; acted: boolean } | undefined)[] = [];

  /** What the node's restarts in a row, with nothing observed since, recorded; if any. */
  pending(node: NodeId): { readonly recorded: T } | undefined {
    const since = this.byNode[node];
    return since !== undefined && !since.acted ? since : undefined;
  }

  restarted(node: NodeId, recorded: T): void {
    this.byNode[node] = { recorded, acted: false };
  }

  /** The node was observed past its recovery. */
  acted(node: NodeId): void {
    const since = this.byNode[node];
    if (since !== undefined) {
      since.acted = true;
    }
  }

  /** This boot cut a torn tail: what the unacted restarts recorded is to be withdrawn. */
  tornTail(node: NodeId): { readonly recorded: T } | undefined {
    const pending = this.pending(node);
    this.byNode[node] = undefined;
    return pending;
  }
}

/**
 * A node's term never goes down, across restarts too. Only observations that carry the node's
 * own current term count: not committed.term (an entry's term), not a pre-vote campaign (the
 * term it would move to), not snapshot-installed (the snapshot's term).
 */
export function termsMonotonic(): Invariant {
  const highest: (TermMark | undefined)[] = [];
  /** The mark each node held before its unacted restarts. */
  const restarts = new UnactedRestarts<TermMark | undefined>();
  const nodeTerm = (record: ObservationRecord): number | undefined => {
    const observation = raftObservation(record);
    switch (observation.type) {
      case 'campaign-started':
        return observation.preVote ? undefined : observation.term;
      case 'became-leader':
      case 'stepped-down':
      case 'vote-granted':
      case 'restarted':
        return observation.term;
      default:
        return undefined;
    }
  };
  return {
    name: 'terms-monotonic',
    observes: [
      'campaign-started',
      'became-leader',
      'stepped-down',
      'vote-granted',
      'restarted',
      'torn-tail-recovered',
    ],
    onObservation(record, view) {
      const what = record.observation.type;
      if (what === 'torn-tail-recovered') {
        const withdrawn = restarts.tornTail(record.node);
        if (withdrawn !== undefined) {
          highest[record.node] = withdrawn.recorded;
        }
        return undefined;
      }
      if (what !== 'restarted') {
        restarts.acted(record.node); // every other observation here is of a node past recovery
      }
      const term = nodeTerm(record);
      if (term === undefined) {
        return undefined;
      }
      const mark = highest[record.node];
      if (what === 'restarted') {
        // Restarts in a row with nothing between: the mark before the first of them.
        restarts.restarted(
          record.node,
          (restarts.pending(record.node) ?? { recorded: mark }).recorded,
        );
      }
      if (mark === undefined || term >= mark.term) {
        highest[record.node] = { ...sourceOf(record), term, what };
        return undefined;
      }
      const hint =
        what === 'restarted'
          ? 'its term was not durable before it acted on it'
          : 'it accepted a stale term';
      return `${who(view, record)} was at term ${term} (${what}) after reaching term ${mark.term} (${mark.what} at ${formatTime(mark.timeUs)}): terms never decrease, so ${hint}`;
    },
  };
}

// ---- 8. one vote per term -------------------------------------------------------------------

interface VoteMark extends Source {
  readonly to: NodeId;
}

function candidate(view: ClusterView, voter: NodeId, to: NodeId): string {
  return to === voter ? 'itself' : view.name(to);
}

/** A node votes for at most one candidate per term (itself included), across restarts. */
export function oneVotePerTerm(): Invariant {
  const votes: Map<number, VoteMark>[] = [];
  const votesOf = (node: NodeId): Map<number, VoteMark> => {
    let byTerm = votes[node];
    if (byTerm === undefined) {
      byTerm = new Map();
      votes[node] = byTerm;
    }
    return byTerm;
  };

  const vote = (
    record: ObservationRecord,
    view: ClusterView,
    term: number,
    to: NodeId,
  ): Verdict => {
    const byTerm = votesOf(record.node);
    const earlier = byTerm.get(term);
    if (earlier === undefined) {
      byTerm.set(term, { ...sourceOf(record), to });
      return undefined;
    }
    if (earlier.to === to) {
      return undefined;
    }
    return `${who(view, record)} voted for ${candidate(view, record.node, to)} in term ${term}, but had voted for ${candidate(view, record.node, earlier.to)} in term ${term} at ${formatTime(earlier.timeUs)}: the vote must be persisted before it is granted and kept across restarts`;
  };

  const restarted = (
    record: ObservationRecord,
    view: ClusterView,
    term: number,
    recovered: NodeId | null,
  ): Verdict => {
    const earlier = votesOf(record.node).get(term);
    if (earlier !== undefined && recovered !== earlier.to) {
      const found = recovered === null ? 'no vote' : `a vote for ${view.name(recovered)}`;
      return `${who(view, record)} restarted in term ${term} with ${found}, but had voted for ${candidate(view, record.node, earlier.to)} in term ${term} at ${formatTime(earlier.timeUs)}: a vote must survive restarts (was it not durable, or forgotten by an earlier restart and overwritten?)`;
    }
    return recovered === null ? undefined : vote(record, view, term, recovered);
  };

  /** The terms whose votes each node's unacted restarts recorded. */
  const restarts = new UnactedRestarts<number[]>();

  return {
    name: 'one-vote-per-term',
    observes: ['vote-granted', 'vote-sent', 'campaign-started', 'restarted', 'torn-tail-recovered'],
    onObservation(record, view) {
      const observation = raftObservation(record);
      if (observation.type === 'torn-tail-recovered') {
        for (const term of restarts.tornTail(record.node)?.recorded ?? []) {
          votesOf(record.node).delete(term);
        }
        return undefined;
      }
      if (observation.type === 'restarted') {
        const terms = [...(restarts.pending(record.node)?.recorded ?? [])];
        if (observation.vote !== null && !votesOf(record.node).has(observation.term)) {
          terms.push(observation.term);
        }
        restarts.restarted(record.node, terms);
      } else {
        restarts.acted(record.node);
      }
      switch (observation.type) {
        case 'vote-granted':
        case 'vote-sent':
          // vote-sent is the granted vote leaving on the wire: with a vote sent before it
          // is durable, a crash in between loses it without a vote-granted ever observed.
          return vote(record, view, observation.term, observation.to);
        case 'campaign-started':
          // A candidate votes for itself in the term it campaigns for.
          return observation.preVote
            ? undefined
            : vote(record, view, observation.term, record.node);
        case 'restarted':
          return restarted(record, view, observation.term, observation.vote);
        default:
          return undefined;
      }
    },
  };
}

// ---- 9. commit rule -------------------------------------------------------------------------

/** A leader commits by counting replicas only entries of its own term (Raft §5.4.2). */
export function commitRule(): Invariant {
  return {
    name: 'commit-rule',
    observes: ['committed'],
    onObservation(record, view) {
      const observation = raftObservation(record);
      if (observation.type !== 'committed' || observation.leaderTerm === null) {
        return undefined;
      }
      if (observation.term === observation.leaderTerm) {
        return undefined;
      }
      return `${who(view, record)}, leader of term ${observation.leaderTerm}, committed index ${observation.index} whose entry is from term ${observation.term} by counting replicas: only current-term entries may be committed that way (Raft §5.4.2, Figure 8)`;
    },
  };
}
