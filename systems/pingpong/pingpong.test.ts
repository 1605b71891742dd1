// Goal: the example system is correct under every fault it meets, and each known-bug
// variant is caught by an invariant. Method: run seeds of the `pingpong` scenario.
import '../../scenarios/index.ts';

import { describe, expect, it } from 'vitest';

import { runSeed } from '../../sim/run.ts';
import { decodeLog, encodeRecord, pingValue, RECORD_SIZE_BYTES } from './records.ts';

function failures(variant: string | null, seeds: number): Map<string, number[]> {
  const found = new Map<string, number[]>();
  for (let seed = 0; seed < seeds; seed++) {
    const { result } = runSeed('pingpong', seed, variant);
    if (result.outcome !== 'pass') {
      const name = result.violation?.invariant ?? result.outcome;
      found.set(name, [...(found.get(name) ?? []), seed]);
    }
  }
  return found;
}

describe('pingpong', () => {
  it('passes 400 seeds of every fault kind when correct', () => {
    expect([...failures(null, 400)]).toEqual([]);
  });

  it('is caught answering before its fsync completes', () => {
    const found = failures('ack-before-fsync', 100);
    expect([...found.keys()]).toEqual(['acked-pings-durable']);
    expect((found.get('acked-pings-durable') ?? []).length).toBeGreaterThan(5);
  });

  it('is caught trusting a torn record without a checksum', () => {
    const found = failures('no-checksum', 400);
    expect(found.get('records-intact')?.length ?? 0).toBeGreaterThan(0);
  });

  it('reaches its sometimes assertions over a few hundred seeds', () => {
    const reached = new Set<string>();
    for (let seed = 0; seed < 300; seed++) {
      for (const name of runSeed('pingpong', seed).result.sometimes) {
        reached.add(name);
      }
    }
    expect([...reached].sort()).toEqual([
      'a ping was retried',
      'a server recovered pings after a restart',
      'a torn log tail was recovered',
      'an fsync failed',
    ]);
  });

  it('recovers exactly the intact prefix of a log cut at any byte', () => {
    const records = [1, 2, 3].map((sequence) => ({
      client: 4,
      sequence,
      value: pingValue(4, sequence),
    }));
    const log = new Uint8Array(records.length * RECORD_SIZE_BYTES);
    for (const [index, record] of records.entries()) {
      log.set(encodeRecord(record), index * RECORD_SIZE_BYTES);
    }
    for (let cut = 0; cut <= log.length; cut++) {
      const recovered = decodeLog(log.subarray(0, cut), true);
      expect(recovered.records).toEqual(records.slice(0, Math.floor(cut / RECORD_SIZE_BYTES)));
    }
    const flipped = log.slice();
    flipped[RECORD_SIZE_BYTES + 10] = (flipped[RECORD_SIZE_BYTES + 10] as number) ^ 1;
    expect(decodeLog(flipped, true).records).toEqual(records.slice(0, 1));
  });
});
