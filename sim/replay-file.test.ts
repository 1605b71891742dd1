// Replay files: round trips, atomic writes, clear errors for every kind of bad input, and the
// divergence report when today's run differs from the recorded one.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import '../scenarios/index.ts';
import {
  decodeReplay,
  encodeReplay,
  locateDivergence,
  REPLAY_FORMAT,
  type ReplayFile,
  ReplayFileError,
  readReplay,
  replayFromRun,
  replayLoaded,
  writeReplay,
} from './replay-file.ts';
import { firstFailingSeed, runSeed, scenarioNamed } from './run.ts';

const pingpong = () => scenarioNamed('pingpong');

function failingFile(): ReplayFile {
  // Any failing seed will do: ack-before-fsync fails about one pingpong seed in four.
  const found = firstFailingSeed('pingpong', 'ack-before-fsync', 50);
  expect(found).toBeDefined();
  const { plan, result } = runSeed('pingpong', found?.seed ?? 0, 'ack-before-fsync');
  expect(result.outcome).toBe('violation');
  return replayFromRun({ scenario: pingpong(), plan, result, finding: 'violation' });
}

/** A passing seed with several checkpoints (pingpong seed 1 runs ~3,100 events). */
function longPassingFile(): ReplayFile {
  const { plan, result } = runSeed('pingpong', 1);
  expect(result.checkpoints.length).toBeGreaterThanOrEqual(2);
  return replayFromRun({ scenario: pingpong(), plan, result, finding: 'pass' });
}

function expectOneSentence(bytes: Uint8Array): void {
  let caught: unknown;
  try {
    decodeReplay(bytes, 'x.msgpack');
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ReplayFileError);
  const message = (caught as Error).message;
  expect(message).toMatch(/^x\.msgpack /);
  expect(message).not.toContain('\n');
}

describe('replay files', () => {
  let file: ReplayFile;
  let bytes: Uint8Array;
  beforeAll(() => {
    file = failingFile();
    bytes = encodeReplay(file);
  });

  it('round-trips every field and records the expected outcome', () => {
    const decoded = decodeReplay(bytes);
    expect(decoded).toEqual(file);
    expect(decoded.faultline).toBe('replay');
    expect(decoded.formatVersion).toBe(REPLAY_FORMAT);
    expect(decoded.expected).toEqual({ outcome: 'fails', invariant: 'acked-pings-durable' });
    expect(decoded.parameters.nodes).toBe(3);
  });

  it('writes atomically: the directory holds only the complete file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'faultline-replay-'));
    const path = join(directory, 'a.msgpack');
    writeReplay(path, file);
    writeReplay(path, file); // overwriting goes through a temp file too
    expect(readdirSync(directory)).toEqual(['a.msgpack']);
    expect(readReplay(path)).toEqual(file);
  });

  it('rejects a file cut at every byte of its first 400 bytes, and one byte short', () => {
    const cuts = [...Array.from({ length: 400 }, (_, index) => index), bytes.length - 1];
    for (const length of cuts) {
      expectOneSentence(bytes.subarray(0, length));
    }
  });

  it('rejects random bytes with a ReplayFileError, never another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (garbage) => {
        expectOneSentence(garbage);
      }),
      { numRuns: 500, seed: 42 },
    );
  });

  it('rejects foreign msgpack: random values and maps without the faultline marker', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3 }), (value) => {
        expectOneSentence(encode(value, { ignoreUndefined: true }));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('rejects a PNG, naming it as not a faultline file', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(() => decodeReplay(png, 'x.png')).toThrow(/not a faultline replay file/);
  });

  it('rejects corrupted fields of a real file, naming the field', () => {
    const mutate = (edit: (copy: Record<string, unknown>) => void) => {
      const copy = structuredClone(file) as unknown as Record<string, unknown>;
      edit(copy);
      return encode(copy);
    };
    expect(() =>
      decodeReplay(
        mutate((copy) => ((copy['plan'] as { groups: { nodes: unknown }[] }).groups[0]!.nodes = 3)),
      ),
    ).toThrow(/damaged.*plan\.groups\[0\]\.nodes/);
    expect(() => decodeReplay(mutate((copy) => delete copy['expected']))).toThrow(/expected/);
    expect(() =>
      decodeReplay(
        mutate(
          (copy) =>
            (copy['checkpoints'] = [
              [5, 'a'],
              [2, 'b'],
            ]),
        ),
      ),
    ).toThrow(/checkpoints/);
  });

  it('replays a file whose plan predates topologies (format 1), migrated to groups', () => {
    // Kept as written before plans recorded groups: servers n1–n5, clients c1–c3. When the
    // seed derivation was hashed, the same format-1 plan moved from seed 6 to seed 36 (the
    // first whose network and disk streams still trip commit-rule), re-recorded in format 1.
    const old = readReplay(
      join(import.meta.dirname, 'fixtures', 'format1-raft-commit-previous-term.msgpack'),
    );
    expect(old.plan.format).toBe(2);
    expect(old.plan.groups).toEqual([
      { name: 'servers', client: false, nodes: ['n1', 'n2', 'n3', 'n4', 'n5'] },
      { name: 'clients', client: true, nodes: ['c1', 'c2', 'c3'] },
    ]);
    const { result } = replayLoaded(old);
    expect(result.violation?.invariant).toBe('commit-rule');
  });

  it('rejects a plan naming a group its scenario does not have, in one sentence', () => {
    const foreign = structuredClone(file);
    foreign.plan.groups = [{ name: 'brokers', client: false, nodes: ['b1'] }];
    expect(() => replayLoaded(foreign)).toThrow(
      /the plan has a group brokers, which scenario pingpong does not declare \(it has servers, clients\)/,
    );
  });

  it('rejects a file from a newer faultline with an upgrade hint', () => {
    const newer = encode({ ...file, formatVersion: REPLAY_FORMAT + 1, faultlineVersion: '9.0.0' });
    expect(() => decodeReplay(newer, 'new.msgpack')).toThrow(
      /new\.msgpack was written by a newer faultline \(faultline 9\.0\.0, replay format 2.*upgrade/,
    );
  });

  it('fast-check: any single-byte change is either harmless or a ReplayFileError', () => {
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), (index, value) => {
        const copy = Uint8Array.from(bytes);
        copy[index] = value;
        try {
          decodeReplay(copy);
        } catch (error) {
          expect(error).toBeInstanceOf(ReplayFileError);
        }
      }),
      { numRuns: 300, seed: 3 },
    );
  });
});

describe('divergence location', () => {
  it('replays a recorded run to the same hash', () => {
    const replayed = replayLoaded(longPassingFile());
    expect(replayed.hashMatches).toBe(true);
    expect(replayed.divergence).toBeUndefined();
    expect(replayed.verdict).toBe('passes');
  });

  it('names the checkpoints around a tampered checkpoint', () => {
    const file = longPassingFile();
    const [first, second] = file.checkpoints as [[number, string], [number, string]];
    file.checkpoints[1] = [second[0], 'tampered'];
    const divergence = replayLoaded(file).divergence;
    expect(divergence?.agreedThroughEvent).toBe(first[0]);
    expect(divergence?.differsByEvent).toBe(second[0]);
    expect(divergence?.message).toContain(`between event ${first[0]} and event ${second[0]}`);
  });

  it('reports an end-only difference after the last agreeing checkpoint', () => {
    const file = longPassingFile();
    file.traceHash = '0000000000000000';
    const divergence = replayLoaded(file).divergence;
    const last = file.checkpoints.at(-1) as [number, string];
    expect(divergence?.differsByEvent).toBeNull();
    expect(divergence?.agreedThroughEvent).toBe(last[0]);
  });

  it('locates a plan edit: the first checkpoint that differs is where the runs part', () => {
    const original = longPassingFile();
    const edited = structuredClone(original);
    // A clock jump late in the run changes nothing before it.
    edited.plan.faults.push({ atUs: 1_500_000, kind: 'clock-jump', node: 0, deltaUs: 5000 });
    edited.plan.faults.sort((a, b) => a.atUs - b.atUs);
    const changed = replayLoaded({ ...edited, checkpoints: [], traceHash: null }).result;
    const divergence = locateDivergence(original, changed);
    expect(divergence).toBeDefined();
    const firstDiffering = original.checkpoints.find(
      ([index, hash]) => changed.checkpoints.find(([other]) => other === index)?.[1] !== hash,
    );
    expect(divergence?.differsByEvent ?? null).toBe(firstDiffering?.[0] ?? null);
  });

  it('compares only checkpoints up to --until', () => {
    const file = longPassingFile();
    const replayed = replayLoaded(file, { untilEvent: 1500 });
    expect(replayed.result.stats.events).toBe(1500);
    expect(replayed.divergence).toBeUndefined();
  });
});

describe('reading from disk', () => {
  it('says which file is missing or foreign', () => {
    const directory = mkdtempSync(join(tmpdir(), 'faultline-replay-'));
    expect(() => readReplay(join(directory, 'none.msgpack'))).toThrow(/no such file/);
    const foreign = join(directory, 'foreign.msgpack');
    writeFileSync(foreign, encode({ hello: 'world' }));
    expect(() => readReplay(foreign)).toThrow(/foreign\.msgpack is not a faultline replay file/);
    expect(readFileSync(foreign).length).toBeGreaterThan(0);
  });
});
