// Goal: each Raft invariant stays quiet on a correct history and names the break in a wrong
// one. Method: hand-built observation sequences over a fake cluster whose servers' logs and
// roles the test sets between steps; then a few seeds of the real scenarios.
import { describe, expect, it } from 'vitest';
import '../scenarios/raft.ts';
import '../scenarios/raft-figure8.ts';
import '../scenarios/raft-lease-drift.ts';
import '../scenarios/raft-prevote-rejoin.ts';
import '../scenarios/raft-backup-unknown-term.ts';
import '../scenarios/raft-lease-restart.ts';
import { planFor } from '../sim/plan.ts';
import { findScenario } from '../sim/scenario.ts';
import { Simulation } from '../sim/simulation.ts';
import type {
  ClusterView,
  GroupView,
  HistoryOperation,
  Invariant,
  NodeId,
  Observation,
  ObservationRecord,
  Phase,
  Verdict,
} from '../sim/types.ts';
import type { RaftRecovered } from '../systems/raft/contract.ts';
import type { Role } from '../systems/raft/types.ts';
import {
  ackedNeverLost,
  applyInOrder,
  CommittedEntries,
  commandDigest,
  commandIdDigest,
  commitRule,
  electionSafety,
  encodeCommand,
  entryDigest,
  freshReads,
  leaderAppendOnly,
  leaderCompleteness,
  logMatching,
  oneVotePerTerm,
  type RaftInspect,
  raftClientSometimes,
  raftLivenessInvariant,
  raftSafetyInvariants,
  raftSometimes,
  raftVotersCatchUp,
  stateMachineSafety,
  termsMonotonic,
} from './raft.ts';

const SECOND = 1_000_000;

// ---- a fake cluster -------------------------------------------------------------------------

interface FakeEntry {
  term: number;
  digest: number;
}

/** The digest of a made-up entry: distinct per (index, term, variant). */
function d(index: number, term: number, variant = 0): number {
  return index * 10_000 + term * 10 + variant;
}

class FakeServer implements RaftInspect {
  readonly group = 'servers';
  role: Role = 'follower';
  term = 0;
  vote: NodeId | null = null;
  leader: NodeId | null = null;
  electionElapsedTicks = 0;
  commitIndex = 0;
  appliedIndex = 0;
  snapshotIndex = 0;
  snapshotTerm = 0;
  voters: NodeId[] = [0, 1, 2];
  entries: FakeEntry[] = [];
  appliedDigests = new Map<number, number>();

  /** What it recovered: the state it holds (these tests drive the safety checks only). */
  get recovered(): RaftRecovered {
    return {
      logFile: 'raft.log',
      snapshotFile: 'raft.snapshot',
      term: this.term,
      vote: this.vote,
      commit: this.commitIndex,
      snapshotIndex: this.snapshotIndex,
      snapshotTerm: this.snapshotTerm,
      snapshotVoters: this.voters,
      snapshotDataDigest: 0,
      stateMachineDigest: undefined,
      entries: this.entries.map((entry, position) => ({
        index: this.snapshotIndex + position + 1,
        ...entry,
      })),
    };
  }

  get firstIndex(): number {
    return this.snapshotIndex + 1;
  }
  get lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }
  termAt(index: number): number | undefined {
    return index === this.snapshotIndex ? this.snapshotTerm : this.entryAt(index)?.term;
  }
  digestAt(index: number): number | undefined {
    return this.entryAt(index)?.digest;
  }
  private entryAt(index: number): FakeEntry | undefined {
    return index <= this.snapshotIndex ? undefined : this.entries[index - this.snapshotIndex - 1];
  }
  /** Sets the log to entries 1.. with these terms (standard digests unless given). */
  setLog(terms: number[], digests: (number | undefined)[] = []): this {
    this.entries = terms.map((term, position) => ({
      term,
      digest: digests[position] ?? d(position + 1, term),
    }));
    return this;
  }
  raftGroup(): RaftInspect {
    return this;
  }
  compactTo(index: number): this {
    const term = this.termAt(index) as number;
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    return this;
  }
}

class FakeCluster implements ClusterView {
  readonly nodes: number;
  timeUs = 0;
  phase: Phase = 'faults';
  history: HistoryOperation[] = [];
  readonly fakes: (FakeServer | undefined)[];
  readonly servers: NodeId[];
  clients: NodeId[];
  private eventIndex = 0;

  constructor(nodes = 3) {
    this.nodes = nodes;
    this.fakes = Array.from({ length: nodes }, () => new FakeServer());
    this.servers = Array.from({ length: nodes }, (_, node) => node);
    this.clients = [nodes];
  }
  get groups(): GroupView[] {
    return [
      { name: 'servers', client: false, members: this.servers },
      { name: 'clients', client: true, members: this.clients },
    ];
  }
  members(group: string): NodeId[] {
    return group === 'servers' ? this.servers : this.clients;
  }
  groupOf(node: NodeId): string {
    return node < this.nodes ? 'servers' : 'clients';
  }
  s(node: NodeId): FakeServer {
    const server = this.fakes[node];
    expect(server, `n${node + 1} is down in this test`).toBeDefined();
    return server as FakeServer;
  }
  isUp(node: NodeId): boolean {
    return node >= this.nodes || this.fakes[node] !== undefined;
  }
  inspect(node: NodeId): unknown {
    return node >= this.nodes ? { role: 'client' } : this.fakes[node];
  }
  name(node: NodeId): string {
    return node < this.nodes ? `n${node + 1}` : `c${node - this.nodes + 1}`;
  }
  /** Every Raft observation names its group (the contract); these all come from `servers`. */
  record(node: NodeId, observation: Observation, timeUs?: number): ObservationRecord {
    this.timeUs = timeUs ?? this.timeUs + 1000;
    const grouped = { group: 'servers', ...observation };
    return { node, timeUs: this.timeUs, eventIndex: this.eventIndex++, observation: grouped };
  }
}

type Step =
  | [NodeId, Observation]
  | [NodeId, Observation, number]
  | ((cluster: FakeCluster) => void);

/** Feeds the steps; returns the first verdict (and stops there), or undefined. */
function run(invariant: Invariant, cluster: FakeCluster, steps: Step[]): Verdict {
  const records: ObservationRecord[] = [];
  for (const step of steps) {
    if (typeof step === 'function') {
      step(cluster);
      continue;
    }
    const record = cluster.record(step[0], step[1], step[2]);
    records.push(record);
    const verdict = invariant.onObservation?.(record, cluster);
    if (verdict !== undefined) {
      return verdict;
    }
  }
  const end = invariant.atEnd?.(cluster, records);
  // No Raft invariant is ever undecided; if one were, these tests should see it.
  return typeof end === 'object' ? `undecided: ${end.undecided}` : end;
}

const leader = (term: number): Observation => ({ type: 'became-leader', term });
const steppedDown = (term: number): Observation => ({
  type: 'stepped-down',
  term,
  reason: 'higher-term',
});
const committed = (index: number, term: number, leaderTerm: number | null = null): Observation => ({
  type: 'committed',
  index,
  term,
  leaderTerm,
});
const truncated = (from: number): Observation => ({ type: 'log-truncated', from });
const applied = (index: number, term: number, digest = d(index, term)): Observation => ({
  type: 'applied',
  index,
  term,
  kind: 'command',
  digest,
});
const voteGranted = (term: number, to: NodeId): Observation => ({
  type: 'vote-granted',
  term,
  to,
});
const campaign = (term: number, preVote = false): Observation => ({
  type: 'campaign-started',
  term,
  preVote,
});
const restarted = (fields: Partial<Record<string, number | null>> = {}): Observation => ({
  type: 'restarted',
  term: 0,
  vote: null,
  commit: 0,
  lastIndex: 0,
  snapshotIndex: 0,
  snapshotTerm: 0,
  ...fields,
});
const snapshotApplied = (index: number, term: number): Observation => ({
  type: 'snapshot-applied',
  index,
  term,
});

// ---- digests --------------------------------------------------------------------------------

describe('digests', () => {
  it('digest a command by its data, and other kinds apart from any command', () => {
    const data = encodeCommand('c1-7');
    expect(entryDigest('command', data)).toBe(commandDigest(data));
    expect(commandIdDigest('c1-7')).toBe(commandDigest(data));
    expect(commandIdDigest('c1-7')).not.toBe(commandIdDigest('c1-8'));
    const empty = new Uint8Array(0);
    expect(entryDigest('noop', empty)).not.toBe(entryDigest('command', empty));
    expect(entryDigest('config', empty)).not.toBe(entryDigest('noop', empty));
  });
});

// ---- 1–9: online ----------------------------------------------------------------------------

describe('election-safety', () => {
  it('accepts one leader per term, even re-reported', () => {
    const verdict = run(electionSafety(), new FakeCluster(), [
      [0, leader(1)],
      [1, leader(2)],
      [0, leader(3)],
      [0, leader(3)],
    ]);
    expect(verdict).toBeUndefined();
  });

  it('names both leaders of a term', () => {
    const verdict = run(electionSafety(), new FakeCluster(), [
      [0, leader(1)],
      [1, leader(2)],
      [2, leader(2)],
    ]);
    expect(verdict).toMatch(/^n3 became leader of term 2 at .* but n2 at 2\.000 ms already had/);
  });
});

describe('leader-append-only', () => {
  it('lets followers, former leaders and restarted nodes truncate', () => {
    const verdict = run(leaderAppendOnly(), new FakeCluster(), [
      [1, truncated(3)],
      [0, leader(2)],
      [0, steppedDown(3)],
      [0, truncated(4)],
      [2, leader(4)],
      [2, restarted({ term: 4 })],
      [2, truncated(2)],
    ]);
    expect(verdict).toBeUndefined();
  });

  it('catches a leader truncating its own log', () => {
    const verdict = run(leaderAppendOnly(), new FakeCluster(), [
      [0, leader(2)],
      [1, truncated(3)],
      [0, truncated(5)],
    ]);
    expect(verdict).toMatch(
      /^n1 at .* truncated its log from index 5 while it was leader of term 2/,
    );
  });
});

describe('log-matching', () => {
  it('accepts logs that agree, and rewritten suffixes after a truncation', () => {
    const cluster = new FakeCluster();
    const verdict = run(logMatching(), cluster, [
      (c) => c.s(0).setLog([1, 1, 2]),
      (c) => c.s(1).setLog([1, 1, 3]), // index 3 of term 3 is a different entry: fine
      [0, committed(2, 1, 2)],
      [1, committed(2, 1)],
      (c) => c.s(1).setLog([1, 1, 2, 2]),
      [1, truncated(3)],
      [1, committed(4, 2)],
      (c) => c.s(2).setLog([1, 1, 2, 2]).compactTo(3),
      [2, committed(4, 2)],
    ]);
    expect(verdict).toBeUndefined();
  });

  it('catches two entries with the same index and term but different data', () => {
    const verdict = run(logMatching(), new FakeCluster(), [
      (c) => c.s(0).setLog([1, 1]),
      (c) => c.s(2).setLog([1, 1], [undefined, 999]),
      [0, leader(1)],
      [2, committed(1, 1)],
    ]);
    expect(verdict).toMatch(
      /^n3 at .* holds entry 2 of term 1 with digest 0x000003e7, but n1 at .* held entry 2 of term 1 with digest/,
    );
  });

  it('catches a log whose terms fall: an old suffix kept after a newer leader’s entries', () => {
    // n2 led term 2 alone (entries 3, 4); n1 leads term 3 and overwrites entry 3 in place,
    // as a follower that does not truncate on conflict would, leaving 4 of term 2 behind it.
    const verdict = run(logMatching(), new FakeCluster(), [
      (c) => c.s(1).setLog([1, 1, 3, 2]),
      [1, committed(2, 1)],
    ]);
    expect(verdict).toMatch(
      /^n2 at .* holds entry 4 of term 2 right after entry 3 of term 3: terms along a log never decrease/,
    );
    const rising = run(logMatching(), new FakeCluster(), [
      (c) => c.s(1).setLog([1, 1, 2, 3, 3]),
      [1, committed(2, 1)],
    ]);
    expect(rising).toBeUndefined();
  });

  it('catches logs that match at an entry but differ before it', () => {
    const verdict = run(logMatching(), new FakeCluster(), [
      (c) => c.s(0).setLog([1, 2, 3]),
      (c) => c.s(1).setLog([1, 1, 3], [undefined, undefined, d(3, 3)]),
      [0, committed(3, 3)],
      [1, committed(3, 3)],
    ]);
    expect(verdict).toMatch(/entry 2 of term 1 with digest .*|entries 2 have terms 1 and 2/);
    expect(verdict).toContain('n2');
  });

  it('checks again what a truncation or a restart may have rewritten', () => {
    const afterTruncation = run(logMatching(), new FakeCluster(), [
      (c) => c.s(0).setLog([1, 1]),
      (c) => c.s(1).setLog([1, 1]),
      [0, committed(2, 1)],
      [1, committed(2, 1)],
      (c) => c.s(1).setLog([1, 1], [undefined, 777]),
      [1, truncated(2)],
      [1, committed(2, 1)],
    ]);
    expect(afterTruncation).toMatch(/^n2 .* holds entry 2 of term 1 with digest 0x00000309/);
    const afterRestart = run(logMatching(), new FakeCluster(), [
      (c) => c.s(0).setLog([1, 1]),
      (c) => c.s(1).setLog([1, 1]),
      [0, committed(2, 1)],
      [1, committed(2, 1)],
      (c) => c.s(1).setLog([1, 1], [undefined, 777]),
      [1, restarted({ term: 1, lastIndex: 1 })],
      [1, committed(2, 1)],
    ]);
    expect(afterRestart).toMatch(/^n2 .* holds entry 2 of term 1/);
  });

  it('checks the committed entry again, even when the log changed without a truncation', () => {
    const verdict = run(logMatching(), new FakeCluster(), [
      (c) => c.s(0).setLog([1, 1, 1]),
      (c) => c.s(1).setLog([1, 1, 1]),
      [0, committed(1, 1)],
      [1, committed(1, 1)],
      // n2 overwrote index 2 in place with a term-2 entry and kept its stale index 3.
      (c) => c.s(1).setLog([1, 2, 1]),
      [1, committed(3, 1)],
    ]);
    // Two checks see it: entry 3's predecessor differs from n1's, and n2's terms fall.
    expect(verdict).toMatch(
      /^n2 at .* (and n1 at .* both hold entry 3 of term 1, but their entries 2 have terms 2 and 1|holds entry 3 of term 1 right after entry 2 of term 2)/,
    );
  });

  it('reads a long log over several observations and still finds a late conflict', () => {
    const terms = Array.from({ length: 600 }, () => 1);
    const verdicts: Verdict[] = [];
    const invariant = logMatching();
    const cluster = new FakeCluster();
    cluster.s(0).setLog(terms);
    cluster.s(1).setLog(terms, Object.assign([], { 599: 1 }));
    for (let round = 0; round < 3; round++) {
      verdicts.push(invariant.onObservation?.(cluster.record(0, committed(600, 1)), cluster));
      verdicts.push(invariant.onObservation?.(cluster.record(1, committed(600, 1)), cluster));
    }
    expect(verdicts.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(verdicts.find((verdict) => verdict !== undefined)).toMatch(/holds entry 600 of term 1/);
  });
});

describe('leader-completeness', () => {
  const base = (c: FakeCluster) => {
    c.s(0).setLog([1, 1, 1]);
    c.s(0).term = 1;
    c.s(1).setLog([1, 1, 1]);
    c.s(2).setLog([1, 1]);
  };

  it('accepts new leaders that hold every entry committed in earlier terms', () => {
    const verdict = run(leaderCompleteness(), new FakeCluster(), [
      base,
      [0, committed(3, 1, 1)],
      (c) => (c.s(1).term = 2),
      [1, leader(2)],
      // n3 lacks index 4, but it was committed in term 4, after n3's term-3 election.
      (c) => c.s(1).setLog([1, 1, 1, 4]),
      (c) => c.s(2).setLog([1, 1, 1]),
      [1, committed(4, 4, 4)],
      [2, leader(3)],
    ]);
    expect(verdict).toBeUndefined();
  });

  it('catches a leader elected without a committed entry', () => {
    const verdict = run(leaderCompleteness(), new FakeCluster(), [
      base,
      [0, committed(3, 1, 1)],
      [2, leader(2)],
    ]);
    expect(verdict).toMatch(
      /^n3 at .* became leader of term 2 without committed entry 3 \(term 1, digest .*, committed per n1 at .*\): its log ends at 2/,
    );
  });

  it('catches a leader holding a different entry at a committed index', () => {
    const verdict = run(leaderCompleteness(), new FakeCluster(), [
      base,
      [0, committed(3, 1, 1)],
      (c) => c.s(2).setLog([1, 1, 1], [undefined, undefined, 5]),
      [2, leader(2)],
    ]);
    expect(verdict).toMatch(
      /without committed entry 3 .* it holds term 1, digest 0x00000005 there/,
    );
  });

  it('bounds a follower-reported commit by the follower term, then requires it', () => {
    const steps: Step[] = [
      base,
      (c) => (c.s(1).term = 5),
      [1, committed(3, 1)], // committed at some term ≤ 5
      [2, leader(4)], // may legitimately lack it
    ];
    expect(run(leaderCompleteness(), new FakeCluster(), steps)).toBeUndefined();
    const verdict = run(leaderCompleteness(), new FakeCluster(), [...steps, [2, leader(6)]]);
    expect(verdict).toMatch(/became leader of term 6 without committed entry 3/);
  });

  it('skips entries under the new leader snapshot', () => {
    const verdict = run(leaderCompleteness(), new FakeCluster(), [
      base,
      [0, committed(3, 1, 1)],
      (c) => c.s(2).setLog([1, 1, 1, 2]).compactTo(3),
      [2, leader(2)],
    ]);
    expect(verdict).toBeUndefined();
  });
});

describe('state-machine-safety', () => {
  it('accepts the same entries applied everywhere, in any order against commits', () => {
    const verdict = run(stateMachineSafety(), new FakeCluster(), [
      (c) => c.s(0).setLog([1, 1]),
      (c) => c.s(1).setLog([1, 1]),
      [0, applied(1, 1)],
      [0, committed(2, 1, 1)],
      [1, applied(1, 1)],
      [1, applied(2, 1)],
      [1, committed(2, 1)],
      [2, snapshotApplied(2, 1)],
    ]);
    expect(verdict).toBeUndefined();
  });

  it('catches two nodes applying different entries at an index', () => {
    const verdict = run(stateMachineSafety(), new FakeCluster(), [
      [0, applied(1, 1)],
      [2, applied(1, 2, d(1, 2))],
    ]);
    expect(verdict).toMatch(
      /^n3 at .* applied entry 1 \(term 2, digest .*\), but n1 at 1\.000 ms applied a different entry there/,
    );
  });

  it('catches an apply that is not the committed entry, whichever is seen first', () => {
    const commitFirst = run(stateMachineSafety(), new FakeCluster(), [
      (c) => c.s(0).setLog([1]),
      [0, committed(1, 1, 1)],
      [1, applied(1, 1, 42)],
    ]);
    expect(commitFirst).toMatch(
      /^n2 .* applied index 1 with term 1, digest 0x0000002a, but n1 .* had committed/,
    );
    const applyFirst = run(stateMachineSafety(), new FakeCluster(), [
      (c) => c.s(0).setLog([1]),
      [1, applied(1, 1, 42)],
      [0, committed(1, 1, 1)],
    ]);
    expect(applyFirst).toMatch(/^n2 at .* applied entry 1 .* but n1 at .* committed term 1/);
  });

  it('catches a committed index changing its term, and a snapshot of another history', () => {
    const recommitted = run(stateMachineSafety(), new FakeCluster(), [
      (c) => c.s(0).setLog([1, 1]),
      (c) => c.s(1).setLog([1, 2]),
      [0, committed(2, 1)],
      [1, committed(2, 2, 2)],
    ]);
    expect(recommitted).toMatch(
      /^n2 .* committed index 2 with term 2, but n1 .* had committed term 1, digest .* there/,
    );
    const snapshot = run(stateMachineSafety(), new FakeCluster(), [
      [0, applied(4, 2)],
      [1, snapshotApplied(4, 3)],
    ]);
    expect(snapshot).toMatch(
      /applied a snapshot through index 4 of term 3, but n1 .* applied term 2/,
    );
  });
});

describe('apply-in-order', () => {
  it('accepts in-order applies, boot snapshots and forward snapshot jumps', () => {
    const verdict = run(applyInOrder(), new FakeCluster(), [
      (c) => (c.s(0).commitIndex = 20),
      [0, restarted()],
      [0, applied(1, 1)],
      [0, applied(2, 1)],
      [0, applied(3, 1)],
      // A reboot from a snapshot at 2: the adapter restores it before it reports restarted.
      [0, snapshotApplied(2, 1)],
      [0, restarted({ snapshotIndex: 2, snapshotTerm: 1, lastIndex: 3 })],
      [0, applied(3, 1)],
      [0, snapshotApplied(10, 2)],
      [0, applied(11, 2)],
    ]);
    expect(verdict).toBeUndefined();
  });

  it('catches a gap and a repeat', () => {
    const cluster = new FakeCluster();
    cluster.s(0).commitIndex = 20;
    const gap = run(applyInOrder(), cluster, [
      [0, applied(1, 1)],
      [0, applied(3, 1)],
    ]);
    expect(gap).toMatch(/^n1 at .* applied entry 3 right after 1, skipping 2\.\.2/);
    const repeat = run(applyInOrder(), cluster, [
      [0, applied(1, 1)],
      [0, applied(1, 1)],
    ]);
    expect(repeat).toMatch(/applied entry 1 right after 1, again or backwards/);
  });

  it('catches a snapshot that moves the state machine back (online and at the end)', () => {
    const cluster = new FakeCluster();
    cluster.s(0).commitIndex = 20;
    const online = run(applyInOrder(), cluster, [
      [0, applied(1, 1)],
      [0, applied(2, 1)],
      [0, snapshotApplied(1, 1)],
      [0, applied(2, 1)],
    ]);
    expect(online).toMatch(
      /^n1 at .* applied a snapshot through 1 after its state machine had reached 2/,
    );
    const atEnd = run(applyInOrder(), cluster, [
      [0, applied(1, 1)],
      [0, applied(2, 1)],
      [0, snapshotApplied(1, 1)],
    ]);
    expect(atEnd).toMatch(/applied a snapshot through 1 after its state machine had reached 2/);
  });

  it('catches an apply beyond the commit index', () => {
    const verdict = run(applyInOrder(), new FakeCluster(), [
      (c) => (c.s(1).commitIndex = 1),
      [1, applied(1, 1)],
      [1, applied(2, 1)],
    ]);
    expect(verdict).toMatch(/^n2 at .* applied entry 2 but its commit index is only 1/);
  });
});

describe('terms-monotonic', () => {
  it('follows the node term, ignoring entry terms and pre-vote campaigns', () => {
    const verdict = run(termsMonotonic(), new FakeCluster(), [
      [0, campaign(2)],
      [0, leader(2)],
      [0, committed(1, 1, 2)], // an entry term, lower than the node's: fine
      [0, steppedDown(3)],
      [0, restarted({ term: 3 })],
      [0, campaign(5, true)], // the term a pre-vote asks about, not the node's
      [0, voteGranted(4, 1)],
      [0, { type: 'snapshot-installed', index: 9, term: 1 }],
    ]);
    expect(verdict).toBeUndefined();
  });

  it('catches a term lost over a restart', () => {
    const verdict = run(termsMonotonic(), new FakeCluster(), [
      [1, voteGranted(3, 0)],
      [1, restarted({ term: 2 })],
    ]);
    expect(verdict).toMatch(
      /^n2 at .* was at term 2 \(restarted\) after reaching term 3 \(vote-granted at 1\.000 ms\).*not durable/,
    );
  });

  it("withdraws a restart's term that the next boot cuts as a torn tail before the node acted", () => {
    // raft seed 756622: term 2 read back whole after a crash, dead again inside its recovery,
    // then bit rot on that sector; the next boot cuts it as a torn tail and is at term 1.
    const tornTail = { type: 'torn-tail-recovered', truncateAt: 35 };
    const withdrawn = run(termsMonotonic(), new FakeCluster(), [
      [1, campaign(1)],
      [1, restarted({ term: 2 })],
      [1, restarted({ term: 2 })], // and again, with nothing between
      [1, tornTail],
      [1, restarted({ term: 1 })],
    ]);
    expect(withdrawn).toBeUndefined();
    // Once the incarnation was seen past its recovery (here a pre-vote), the term stands.
    const acted = run(termsMonotonic(), new FakeCluster(), [
      [1, campaign(1)],
      [1, restarted({ term: 2 })],
      [1, campaign(3, true)],
      [1, tornTail],
      [1, restarted({ term: 1 })],
    ]);
    expect(acted).toMatch(/^n2 at .* was at term 1 \(restarted\) after reaching term 2/);
    // And without a torn tail the term was simply lost.
    const lost = run(termsMonotonic(), new FakeCluster(), [
      [1, campaign(1)],
      [1, restarted({ term: 2 })],
      [1, restarted({ term: 1 })],
    ]);
    expect(lost).toMatch(/was at term 1 \(restarted\) after reaching term 2/);
  });

  it('catches a stale-term action', () => {
    const verdict = run(termsMonotonic(), new FakeCluster(), [
      [1, steppedDown(5)],
      [1, voteGranted(4, 2)],
    ]);
    expect(verdict).toMatch(/was at term 4 \(vote-granted\) after reaching term 5.*stale term/);
  });
});

describe('one-vote-per-term', () => {
  it('accepts one vote per term, repeated, and recovered after a restart', () => {
    const verdict = run(oneVotePerTerm(), new FakeCluster(), [
      [0, voteGranted(1, 1)],
      [0, voteGranted(1, 1)],
      [0, restarted({ term: 1, vote: 1 })],
      [0, voteGranted(1, 1)],
      [0, campaign(2, true)],
      [0, voteGranted(2, 2)],
      [0, campaign(3)],
      [0, restarted({ term: 3, vote: 0 })],
    ]);
    expect(verdict).toBeUndefined();
  });

  it('catches two votes in a term, the candidate own included', () => {
    const twice = run(oneVotePerTerm(), new FakeCluster(), [
      [0, voteGranted(1, 1)],
      [0, voteGranted(1, 2)],
    ]);
    expect(twice).toMatch(
      /^n1 at .* voted for n3 in term 1, but had voted for n2 in term 1 at 1\.000 ms/,
    );
    const self = run(oneVotePerTerm(), new FakeCluster(), [
      [2, campaign(4)],
      [2, voteGranted(4, 0)],
    ]);
    expect(self).toMatch(/voted for n1 in term 4, but had voted for itself/);
  });

  it("withdraws a restart's vote that the next boot cuts as a torn tail before the node acted", () => {
    const tornTail = { type: 'torn-tail-recovered', truncateAt: 35 };
    const withdrawn = run(oneVotePerTerm(), new FakeCluster(), [
      [0, restarted({ term: 3, vote: 1 })],
      [0, tornTail],
      [0, restarted({ term: 2, vote: null })],
      [0, voteGranted(3, 2)],
    ]);
    expect(withdrawn).toBeUndefined();
    const acted = run(oneVotePerTerm(), new FakeCluster(), [
      [0, restarted({ term: 3, vote: 1 })],
      [0, campaign(4, true)],
      [0, tornTail],
      [0, restarted({ term: 2, vote: null })],
      [0, voteGranted(3, 2)],
    ]);
    expect(acted).toMatch(/voted for n3 in term 3, but had voted for n2 in term 3/);
    // A vote the node had granted before the restart is not the restart's to withdraw.
    const granted = run(oneVotePerTerm(), new FakeCluster(), [
      [0, voteGranted(3, 1)],
      [0, restarted({ term: 3, vote: 1 })],
      [0, tornTail],
      [0, restarted({ term: 3, vote: null })],
    ]);
    expect(granted).toMatch(/restarted in term 3 with no vote, but had voted for n2/);
  });

  it('catches a vote forgotten or changed over a restart', () => {
    const lost = run(oneVotePerTerm(), new FakeCluster(), [
      [0, voteGranted(3, 1)],
      [0, restarted({ term: 3, vote: null })],
    ]);
    expect(lost).toMatch(/^n1 at .* restarted in term 3 with no vote, but had voted for n2/);
    const changed = run(oneVotePerTerm(), new FakeCluster(), [
      [0, voteGranted(3, 1)],
      [0, restarted({ term: 3, vote: 2 })],
    ]);
    expect(changed).toMatch(/restarted in term 3 with a vote for n3, but had voted for n2/);
  });
});

describe('commit-rule', () => {
  it('accepts a leader committing its own term, and followers catching up', () => {
    const verdict = run(commitRule(), new FakeCluster(), [
      [0, committed(4, 3, 3)],
      [1, committed(4, 3)],
      [1, committed(2, 1)],
    ]);
    expect(verdict).toBeUndefined();
  });

  it('catches Figure 8: a leader counting replicas of an earlier-term entry', () => {
    const verdict = run(commitRule(), new FakeCluster(), [[0, committed(2, 1, 3)]]);
    expect(verdict).toMatch(
      /^n1 at .*, leader of term 3, committed index 2 whose entry is from term 1 by counting replicas/,
    );
  });
});

// ---- fresh reads ----------------------------------------------------------------------------

describe('fresh-reads', () => {
  const requested = (readId: number): Observation => ({ type: 'read-requested', readId });
  const served = (readId: number, index: number): Observation => ({
    type: 'read-served',
    readId,
    index,
  });

  it('accepts reads at or above everything committed before they were requested', () => {
    const verdict = run(freshReads(), new FakeCluster(), [
      [0, committed(5, 2, 2)],
      [0, requested(1)],
      [1, committed(7, 2)], // committed after the request: the read may miss it
      [0, served(1, 5)],
      [0, requested(2)],
      [0, served(2, 7)],
    ]);
    expect(verdict).toBeUndefined();
  });

  it('catches a deposed leader answering below an entry committed before the request', () => {
    const verdict = run(freshReads(), new FakeCluster(), [
      [0, committed(5, 2, 2)],
      [1, committed(8, 3, 3)],
      [0, requested(1)],
      [0, served(1, 5)],
    ]);
    expect(verdict).toMatch(
      /^n1 answered a read at index 5 at .*, but index 8 had been committed \(n2 at .*\) before the read was requested/,
    );
  });

  it('forgets a node’s open reads when it restarts: read ids start again', () => {
    const verdict = run(freshReads(), new FakeCluster(), [
      [1, committed(8, 3, 3)],
      [0, requested(1)], // never answered: the node crashed
      [0, restarted({ term: 3 })],
      [0, served(1, 2)], // a new incarnation's read 1, never requested: nothing to judge
    ]);
    expect(verdict).toBeUndefined();
  });
});

// ---- 10–11: at the end ----------------------------------------------------------------------

describe('acked-never-lost', () => {
  const CLIENT = 3;
  const ack = (id: string, index: number, term: number): HistoryOperation => ({
    id: 0,
    client: CLIENT,
    input: { f: 'propose', id },
    callUs: 1000,
    returnUs: 2000,
    status: 'ok',
    output: { index, term },
  });
  /** Every server holds and applied [noop, c1-1] at indexes 1–2 of term 1. */
  const healthy = (c: FakeCluster) => {
    for (const server of c.fakes) {
      const s = server as FakeServer;
      s.setLog([1, 1], [d(1, 1), commandIdDigest('c1-1')]);
      s.commitIndex = 2;
      s.appliedIndex = 2;
      s.appliedDigests.set(2, commandIdDigest('c1-1'));
    }
  };

  it('accepts an acked command applied where it was acked', () => {
    const cluster = new FakeCluster();
    cluster.history = [ack('c1-1', 2, 1), { ...ack('c1-2', 3, 1), status: undefined }];
    const verdict = run(ackedNeverLost(), cluster, [
      healthy,
      (c) => {
        c.s(2).appliedIndex = 1; // behind: not judged
        c.s(2).commitIndex = 1;
        c.s(2).setLog([1, 2]);
        c.fakes[1] = undefined;
      },
      [0, applied(2, 1, commandIdDigest('c1-1'))],
      [CLIENT, { type: 'proposal-acked', id: 'c1-1', index: 2, term: 1 }],
    ]);
    expect(verdict).toBeUndefined();
  });

  it('catches an acked command replaced by another entry', () => {
    const cluster = new FakeCluster();
    cluster.history = [ack('c1-1', 2, 1)];
    const verdict = run(ackedNeverLost(), cluster, [
      healthy,
      (c) => c.s(1).appliedDigests.set(2, commandIdDigest('c2-9')),
    ]);
    expect(verdict).toMatch(
      /^command "c1-1" was acknowledged to c1 at 2\.000 ms at index 2, term 1, but at the end n2 has applied a different entry there/,
    );
  });

  it('catches an acked command overwritten in a committed log', () => {
    const cluster = new FakeCluster();
    cluster.history = [ack('c1-1', 2, 1)];
    const verdict = run(ackedNeverLost(), cluster, [healthy, (c) => c.s(0).setLog([1, 2])]);
    expect(verdict).toMatch(/but at the end n1 has committed term 2 at that index/);
  });

  it('catches an earlier incarnation applying something else there', () => {
    const cluster = new FakeCluster();
    const verdict = run(ackedNeverLost(), cluster, [
      healthy,
      [2, applied(2, 1, 12345)],
      [CLIENT, { type: 'proposal-acked', id: 'c1-1', index: 2, term: 1 }],
    ]);
    expect(verdict).toMatch(/but n3 at .* applied a different entry there \(digest 0x00003039/);
  });

  it('catches an acked index no server reaches', () => {
    const cluster = new FakeCluster();
    cluster.history = [ack('c1-1', 5, 1)];
    const verdict = run(ackedNeverLost(), cluster, [healthy]);
    expect(verdict).toMatch(
      /at index 5, term 1, but at the end no running server has applied that far \(the furthest is 2\)/,
    );
  });
});

describe('liveness-after-settle', () => {
  const settled = (c: FakeCluster) => {
    for (const server of c.fakes) {
      (server as FakeServer).term = 4;
    }
    c.s(1).role = 'leader';
  };
  const quietRun = (options = {}): Step[] => [
    settled,
    [1, committed(5, 3, 3), 9 * SECOND],
    [1, applied(5, 3), 10.5 * SECOND], // committed before settle: not progress
    [1, committed(6, 4, 4), 11 * SECOND],
    [1, applied(6, 4), 11 * SECOND],
    (c) => {
      c.timeUs = 15 * SECOND;
      Object.assign(c, options);
    },
  ];

  it('accepts one leader everyone follows and a fresh command soon after settle', () => {
    const verdict = run(
      raftLivenessInvariant({ settleStartUs: 10 * SECOND }),
      new FakeCluster(),
      quietRun(),
    );
    expect(verdict).toBeUndefined();
  });

  it('finds the settle start from the phase when not told', () => {
    const cluster = new FakeCluster();
    const steps = quietRun();
    steps.splice(2, 0, (c) => (c.phase = 'settle'));
    expect(run(raftLivenessInvariant(), cluster, steps)).toBeUndefined();
    const dead = new FakeCluster();
    dead.phase = 'settle';
    expect(run(raftLivenessInvariant(), dead, [])).toMatch(/no server reported anything/);
  });

  it('catches no leader, two leaders and a voter left behind', () => {
    const options = { settleStartUs: 10 * SECOND };
    const none = run(raftLivenessInvariant(options), new FakeCluster(), [
      ...quietRun(),
      (c) => (c.s(1).role = 'follower'),
    ]);
    expect(none).toMatch(/^after the settle phase, at 15000\.000 ms, there is no leader/);
    const two = run(raftLivenessInvariant(options), new FakeCluster(), [
      ...quietRun(),
      (c) => (c.s(2).role = 'leader'),
    ]);
    expect(two).toMatch(/there is 2 leaders: n2 \(term 4\), n3 \(term 4\)/);
    const behind = run(raftLivenessInvariant(options), new FakeCluster(), [
      ...quietRun(),
      (c) => (c.s(0).term = 3),
    ]);
    expect(behind).toMatch(/n1 is at term 3 while n2 leads term 4/);
  });

  it('catches no fresh command after settle, and one that came too late', () => {
    const options = { settleStartUs: 10 * SECOND };
    const stuck = run(raftLivenessInvariant(options), new FakeCluster(), quietRun().slice(0, 3));
    expect(stuck).toMatch(
      /no new command was applied \(everything applied was at or below index 5/,
    );
    // With no clients there is nothing to commit: only the leader condition holds then.
    const noClients: Step = (c) => (c.clients = []);
    const idle = raftLivenessInvariant(options);
    expect(run(idle, new FakeCluster(), [noClients, ...quietRun().slice(0, 3)])).toBeUndefined();
    const idleNoLeader = raftLivenessInvariant(options);
    expect(
      run(idleNoLeader, new FakeCluster(), [
        noClients,
        ...quietRun().slice(0, 3),
        (c) => (c.s(1).role = 'follower'),
      ]),
    ).toMatch(/there is no leader/);
    const late = run(
      raftLivenessInvariant({ ...options, commitWithinUs: SECOND / 2 }),
      new FakeCluster(),
      quietRun(),
    );
    expect(late).toMatch(
      /the first new command \(index 6, applied by n2 at 11000\.000 ms\) took 1000\.000 ms, more than the 500\.000 ms allowed/,
    );
  });
});

describe('voters-catch-up-after-settle', () => {
  // n2 leads term 4 in the settle phase; it committed index 6 at 11 s and index 9 at 14 s,
  // and the run ends at 15 s: index 6 is owed by every running voter, index 9 not yet.
  const ending =
    (appliedByN1: number, more: (c: FakeCluster) => void = () => {}): Step =>
    (c) => {
      c.timeUs = 15 * SECOND;
      c.phase = 'settle';
      for (const server of c.fakes) {
        (server as FakeServer).term = 4;
        (server as FakeServer).appliedIndex = 9;
      }
      c.s(1).role = 'leader';
      c.s(0).appliedIndex = appliedByN1;
      more(c);
    };
  const commits: Step[] = [
    [1, committed(6, 4, 4), 11 * SECOND],
    [2, committed(7, 4), 12 * SECOND], // a follower's commit: not the leader's
    [1, committed(9, 4, 4), 14 * SECOND],
  ];
  const verdict = (end: Step) => run(raftVotersCatchUp(), new FakeCluster(), [...commits, end]);

  it('holds a running voter to what the leader committed long enough before the end', () => {
    expect(verdict(ending(6))).toBeUndefined();
    expect(verdict(ending(5))).toMatch(
      /^after the settle phase, at 15000\.000 ms, voter n1 has applied up to index 5 .* but index 6 was committed at 11000\.000 ms, 2000\.000 ms before the end, and n2 leads term 4/,
    );
  });

  it('does not judge a voter that is down, a run still in its faults, or no single leader', () => {
    expect(verdict(ending(5, (c) => (c.fakes[0] = undefined)))).toBeUndefined();
    expect(verdict(ending(5, (c) => (c.phase = 'faults')))).toBeUndefined();
    expect(verdict(ending(5, (c) => (c.s(2).role = 'leader')))).toBeUndefined();
    // Not a voter of the leader's configuration (removed): nothing owed.
    expect(verdict(ending(5, (c) => (c.s(1).voters = [1, 2])))).toBeUndefined();
  });
});

describe('sometimes', () => {
  const record = (observation: Observation): ObservationRecord => ({
    node: 0,
    timeUs: 0,
    eventIndex: 0,
    observation,
  });
  it('recognises each condition and nothing else', () => {
    const hits: [string, Observation][] = [
      ['a leader was deposed', steppedDown(3)],
      ['a snapshot was installed', { type: 'snapshot-installed', index: 9, term: 2 }],
      ['a torn tail was recovered', { type: 'torn-tail-recovered', truncateAt: 100 }],
      ['a membership change completed', { ...applied(4, 2), kind: 'config' }],
    ];
    expect(Object.keys(raftSometimes).sort()).toEqual(hits.map(([name]) => name).sort());
    const acked = raftClientSometimes['a proposal was acknowledged'] as (
      r: ObservationRecord,
    ) => boolean;
    expect(acked(record({ type: 'proposal-acked', id: 'c1-1', index: 3, term: 1 }))).toBe(true);
    expect(acked(record(applied(4, 2)))).toBe(false);
    for (const [name, observation] of hits) {
      const predicate = raftSometimes[name] as (r: ObservationRecord) => boolean;
      expect(predicate(record(observation)), name).toBe(true);
      expect(predicate(record(applied(4, 2))), name).toBe(false);
    }
  });
});

// ---- the set, and real runs -----------------------------------------------------------------

describe('raftSafetyInvariants', () => {
  it('builds 1–11 and the two recovery rules with distinct names, sharing one committed-entries tracker', () => {
    const names = raftSafetyInvariants().map((invariant) => invariant.name);
    expect(new Set(names).size).toBe(13);
    expect(names).toContain('refuses-only-on-media-fault');
    expect(names).toContain('recovered-equals-durable');
    expect(names).toContain('fresh-reads');
    expect(names).toContain('acked-never-lost');
    const shared = new CommittedEntries();
    const cluster = new FakeCluster();
    cluster.s(0).setLog([1, 1]);
    const record = cluster.record(0, committed(2, 1, 1));
    leaderCompleteness(shared).onObservation?.(record, cluster);
    stateMachineSafety(shared).onObservation?.(record, cluster);
    expect([shared.collectedTo, shared.freshFrom, shared.freshTo]).toEqual([2, 1, 2]);
  });
});

function runSeed(scenario: string, seed: number, variant: string | null = null) {
  const found = findScenario(scenario);
  expect(found, `scenario ${scenario}`).toBeDefined();
  const definedScenario = found as NonNullable<typeof found>;
  return new Simulation(definedScenario, planFor(definedScenario, seed, variant)).run();
}

describe('real runs', () => {
  it('the raft scenario passes a few seeds with no violation', () => {
    for (let seed = 0; seed < 4; seed++) {
      const result = runSeed('raft', seed);
      expect(result.violation, `seed ${seed}`).toBeUndefined();
      expect(result.outcome).toBe('pass');
    }
  }, 60_000);

  it('raft-figure8 passes on the correct Raft and catches commit-previous-term', () => {
    expect(runSeed('raft-figure8', 1).outcome).toBe('pass');
    const buggy = runSeed('raft-figure8', 1, 'commit-previous-term');
    expect(buggy.violation?.invariant).toBe('commit-rule');
  });

  it('raft-lease-restart passes on the correct Raft and catches lease-vote-after-restart', () => {
    for (const seed of [0, 1, 2]) {
      const correct = runSeed('raft-lease-restart', seed);
      expect(correct.violation?.message, `seed ${seed}`).toBeUndefined();
      expect(correct.sometimes).toContain('a leader answered a read under its lease');
      const buggy = runSeed('raft-lease-restart', seed, 'lease-vote-after-restart');
      expect(buggy.violation?.invariant, `seed ${seed}`).toBe('fresh-reads');
    }
  });

  it('raft-lease-drift passes on the correct Raft and catches lease-ignores-drift', () => {
    const correct = runSeed('raft-lease-drift', 0);
    expect(correct.violation?.message).toBeUndefined();
    expect(correct.sometimes).toContain('a leader answered a read under its lease');
    const buggy = runSeed('raft-lease-drift', 0, 'lease-ignores-drift');
    expect(buggy.violation?.invariant).toBe('fresh-reads');
    expect(buggy.violation?.message).toMatch(/^n1 answered a read at index 2 at 1610\.000 ms/);
  });

  it('raft-backup-unknown-term passes on the correct Raft; its checks see a slow or missing repair', () => {
    for (const seed of [0, 1, 2]) {
      expect(
        runSeed('raft-backup-unknown-term', seed).violation?.message,
        `seed ${seed}`,
      ).toBeUndefined();
    }
    expect(
      runSeed('raft-backup-unknown-term', 0, 'no-truncate-on-conflict').violation?.invariant,
    ).toBe('log-matching');
    const scenario = findScenario('raft-backup-unknown-term') as NonNullable<
      ReturnType<typeof findScenario>
    >;
    // n2 never rejoins: no repair at all.
    const cutOff = planFor(scenario, 0);
    cutOff.faults = cutOff.faults.filter((fault) => fault.kind !== 'heal');
    expect(new Simulation(scenario, cutOff).run().violation?.message).toMatch(
      /^n2 was not repaired within 200 ms of the heal: /,
    );
    // Reads at n3 right after the heal cost heartbeat rounds of their own: the message count
    // from the heal is what the budget judges, so it must see them.
    const busy = planFor(scenario, 0);
    for (let read = 0; read < 30; read++) {
      busy.script.push({
        atUs: 510_000 + read * 1000,
        kind: 'inject',
        node: 2,
        message: { type: 'read', id: `r${read}` },
      });
    }
    busy.script.sort((a, b) => a.atUs - b.atUs);
    expect(new Simulation(scenario, busy).run().violation?.message).toMatch(
      /^\d+ messages from the heal to n2's repair, expected at most 80: /,
    );
  });

  it('raft-prevote-rejoin passes on the correct Raft; its checks see a deposed leader', () => {
    const correct = runSeed('raft-prevote-rejoin', 0);
    expect(correct.violation?.message).toBeUndefined();
    // What n1 hears from a follower that got through pre-vote and campaigned for term 2
    // (a server granting every pre-vote lets it): n3's answer to a heartbeat, at term 2.
    const scenario = findScenario('raft-prevote-rejoin') as NonNullable<
      ReturnType<typeof findScenario>
    >;
    const plan = planFor(scenario, 0);
    plan.script.push({
      atUs: 650_000,
      kind: 'inject',
      node: 0,
      message: { type: 'heartbeat-response', from: 2, to: 0, term: 2, readSeq: 0 },
    });
    plan.script.sort((a, b) => a.atUs - b.atUs);
    const deposed = new Simulation(scenario, plan).run();
    expect(deposed.violation?.message).toMatch(
      /^a follower rejoining after a partition deposed a healthy leader: n1 follower of term 2/,
    );
  });
});
