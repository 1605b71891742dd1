import { describe, expect, it } from 'vitest';

import '../scenarios/raft.ts';
import { runSeed } from '../sim/run.ts';
import type { ClusterView, ObservationRecord } from '../sim/types.ts';
import { encodeBatch, encodeSnapshotFile, type LogRecord } from '../systems/raft/codec.ts';
import { entryDigest, type RaftRecovered } from '../systems/raft/contract.ts';
import type { Entry } from '../systems/raft/types.ts';
import {
  type DurableRaftImage,
  decodeDurableRaft,
  recoveredEqualsDurable,
  recoveryDifference,
  refusesOnlyOnMediaFault,
} from './raft-recovery.ts';

function viewWith(mediaFaults: number[]): ClusterView {
  return {
    servers: [0, 1, 2],
    clients: [],
    groups: [],
    members: () => [0, 1, 2],
    groupOf: () => 'servers',
    timeUs: 0,
    phase: 'faults',
    isUp: () => true,
    inspect: () => undefined,
    name: (node) => `n${node + 1}`,
    history: [],
    mediaFaults: (node) => mediaFaults[node] ?? 0,
  };
}

const refused = (node: number): ObservationRecord => ({
  node,
  timeUs: 1_500_000,
  eventIndex: 7,
  observation: { type: 'corruption-detected', offset: 4096, reason: 'log corrupt' },
});

describe('refuses-only-on-media-fault', () => {
  it('flags a refusal on a disk no media fault hit, naming the node and the reason', () => {
    const verdict = refusesOnlyOnMediaFault().onObservation?.(refused(1), viewWith([3, 0, 0]));
    expect(verdict).toMatch(/^n2 refused to start at 1500\.000 ms \(log corrupt, at byte 4096\)/);
  });

  it('excuses a refusal after a media fault hit that same disk', () => {
    const check = refusesOnlyOnMediaFault();
    expect(check.onObservation?.(refused(0), viewWith([1, 0, 0]))).toBeUndefined();
    expect(check.onObservation?.(refused(2), viewWith([0, 0, 2]))).toBeUndefined();
  });

  it('looks at nothing but refusals', () => {
    const restarted: ObservationRecord = {
      ...refused(1),
      observation: { type: 'restarted', term: 3, lastIndex: 9 },
    };
    expect(refusesOnlyOnMediaFault().onObservation?.(restarted, viewWith([]))).toBeUndefined();
  });
});

const entry = (index: number, term: number, text = `cmd${index}`): Entry => ({
  index,
  term,
  kind: 'command',
  data: new TextEncoder().encode(text),
});
const entryRecord = (index: number, term: number, text?: string): LogRecord => ({
  type: 'entry',
  entry: entry(index, term, text),
});
const hard = (term: number, vote: number | null, commit: number): LogRecord => ({
  type: 'hard-state',
  hardState: { term, vote, commit },
});

function log(...batches: LogRecord[][]): Uint8Array {
  const parts = batches.map((records, batch) => encodeBatch(batch, records, batch === 0));
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

function image(decoded: DurableRaftImage | string): DurableRaftImage {
  if (typeof decoded === 'string') {
    throw new Error(decoded);
  }
  return decoded;
}

const indices = (decoded: DurableRaftImage) => decoded.entries.map((e) => [e.index, e.term]);

describe('decoding a durable Raft image', () => {
  it('folds batches: the last hard state, truncations, rewritten suffixes', () => {
    const bytes = log(
      [entryRecord(1, 1), entryRecord(2, 1), entryRecord(3, 1), hard(1, 0, 1)],
      [{ type: 'truncate', from: 3 }, entryRecord(3, 2), hard(2, 1, 2)],
      [entryRecord(2, 3), hard(3, 2, 9)],
    );
    const decoded = image(decodeDurableRaft(bytes, undefined));
    expect(indices(decoded)).toEqual([
      [1, 1],
      [2, 3],
    ]);
    // The commit hint is clamped to the log: entry 3 was rewritten away.
    expect([decoded.term, decoded.vote, decoded.commit]).toEqual([3, 2, 2]);
    expect(decoded.entries[1]?.digest).toBe(entryDigest('command', entry(2, 3).data));
  });

  it('leaves out a torn last batch, and calls damage before a later batch corruption', () => {
    const whole = log([entryRecord(1, 1), hard(1, 0, 0)], [entryRecord(2, 1), hard(1, 0, 1)]);
    const torn = whole.subarray(0, whole.length - 5);
    expect(indices(image(decodeDurableRaft(torn, undefined)))).toEqual([[1, 1]]);
    const damaged = whole.slice();
    damaged[12] = (damaged[12] as number) ^ 0xff; // inside batch 0, batch 1 intact after it
    expect(decodeDurableRaft(damaged, undefined)).toMatch(/synced log is damaged/);
  });

  it('takes the snapshot file over an older log, keeping the suffix only where it matches', () => {
    const bytes = log([entryRecord(1, 1), entryRecord(2, 1), entryRecord(3, 2), hard(2, 0, 3)]);
    const snapshot = (term: number) =>
      encodeSnapshotFile({
        meta: { lastIncludedIndex: 2, lastIncludedTerm: term, voters: [0, 1, 2] },
        data: new Uint8Array([7]),
      });
    const matching = image(decodeDurableRaft(bytes, snapshot(1)));
    expect([matching.snapshotIndex, indices(matching)]).toEqual([2, [[3, 2]]]);
    const conflicting = image(decodeDurableRaft(bytes, snapshot(3)));
    expect([conflicting.snapshotIndex, conflicting.commit, indices(conflicting)]).toEqual([
      2,
      2,
      [],
    ]);
    expect(
      decodeDurableRaft(
        log([
          {
            type: 'snapshot-meta',
            meta: { lastIncludedIndex: 4, lastIncludedTerm: 1, voters: [0] },
          },
        ]),
        undefined,
      ),
    ).toMatch(/no snapshot file/);
  });
});

describe('recovered-equals-durable', () => {
  const durable = image(
    decodeDurableRaft(log([entryRecord(1, 1), entryRecord(2, 1), hard(1, 1, 2)]), undefined),
  );
  const recovered: RaftRecovered = {
    logFile: 'raft.log',
    snapshotFile: 'raft.snapshot',
    term: 1,
    vote: 1,
    commit: 2,
    snapshotIndex: 0,
    snapshotTerm: 0,
    snapshotVoters: [],
    snapshotDataDigest: 0,
    stateMachineDigest: undefined,
    entries: durable.entries,
  };
  const name = (node: number) => `n${node + 1}`;

  it('passes a faithful recovery and names the first difference of a wrong one', () => {
    expect(recoveryDifference(recovered, durable, name)).toBeUndefined();
    expect(recoveryDifference({ ...recovered, vote: null }, durable, name)).toBe(
      'no vote where its disk holds a vote for n2',
    );
    const dropped = { ...recovered, commit: 1, entries: durable.entries.slice(0, 1) };
    expect(recoveryDifference(dropped, durable, name)).toBe(
      'a log ending at index 1 where its disk holds entries through 2',
    );
    const other = [
      durable.entries[0],
      { ...durable.entries[1], digest: 5 },
    ] as RaftRecovered['entries'];
    expect(recoveryDifference({ ...recovered, entries: other }, durable, name)).toBe(
      'entry 2 of term 1 where its disk holds entry 2 of term 1 with other content',
    );
  });

  it('compares the state machine after replay with a fresh replay of the durable image', () => {
    const bytes = log([entryRecord(1, 1), entryRecord(2, 1), hard(1, 1, 2)]);
    let rebuiltFrom: string[] = [];
    let copies = true;
    const state = {
      recovered,
      rebuildStateMachine: (_: Uint8Array | undefined, entries: readonly Entry[]) => {
        rebuiltFrom = entries.map((e) => new TextDecoder().decode(e.data));
        return copies ? 42 : undefined;
      },
      raftGroup: () => state,
    };
    const view: ClusterView = {
      ...viewWith([0, 0, 0]),
      inspect: () => state,
      durableFile: (_node, file) => (file === 'raft.log' ? bytes : undefined),
    };
    const record = (observation: ObservationRecord['observation']): ObservationRecord => ({
      node: 1,
      timeUs: 2_000,
      eventIndex: 3,
      observation: { ...observation, group: 'servers' },
    });
    const check = recoveredEqualsDurable();
    expect(check.onObservation?.(record({ type: 'restarted' }), view)).toBeUndefined();
    const replayed = (stateDigest: number) =>
      record({ type: 'recovery-replayed', index: 1, stateDigest });
    expect(check.onObservation?.(replayed(7), view)).toMatch(
      /^n2 replayed its log to index 1 after restarting, and its state machine differs/,
    );
    expect(rebuiltFrom).toEqual(['cmd1']);
    check.onObservation?.(record({ type: 'restarted' }), view);
    expect(check.onObservation?.(replayed(42), view)).toBeUndefined();
    // A machine that declares fresh() but makes no copy would turn the check off unseen.
    copies = false;
    check.onObservation?.(record({ type: 'restarted' }), view);
    expect(check.onObservation?.(replayed(42), view)).toMatch(
      /^n2 replayed its log to index 1 after restarting, but its state machine, which declares fresh\(\), made no fresh copy/,
    );
  });

  // Seed 0 is the first seed of 0–49 that fails on the current code (seed 2 under the seedfix branch's derivation).
  it('catches a recovery that drops the newest entry in the raft swarm, which the correct Raft passes', () => {
    const buggy = runSeed('raft', 0, 'recover-drops-last-entry').result;
    expect(buggy.violation?.invariant).toBe('recovered-equals-durable');
    expect(buggy.violation?.message).toMatch(
      /restarted at .* with a log ending at index \d+ where its disk holds entries through \d+/,
    );
    expect(runSeed('raft', 0).result.outcome).toBe('pass');
  });
});
