// fuzzTest: the correct pingpong passes a batch of seeds in-process; the known-bug variant
// fails with a message that carries the replay path and the command that reproduces it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { readReplay } from './replay-file.ts';
import { fuzzSeeds, fuzzTest } from './vitest.ts';

fuzzTest('pingpong survives crashes, partitions and torn writes', 'pingpong', { seeds: 25 });

describe('fuzzTest failures', () => {
  it('name the seed, the invariant, the replay file and the repro command', () => {
    const out = mkdtempSync(join(tmpdir(), 'faultline-fuzztest-'));
    const report = fuzzSeeds('pingpong', { seeds: 25, variant: 'ack-before-fsync', out });
    const failure = report.failure;
    expect(failure?.seed).toBe(0);
    expect(failure?.message).toContain(
      'pingpong (variant ack-before-fsync) seed 0 fails acked-pings-durable',
    );
    expect(failure?.message).toContain(`npx faultline replay ${failure?.replay}`);
    expect(readReplay(failure?.replay as string).seed).toBe(0);
  });

  it('reject an unknown variant at once', () => {
    expect(() => fuzzSeeds('pingpong', { seeds: 1, variant: 'nope' })).toThrow(/no variant "nope"/);
  });
});
