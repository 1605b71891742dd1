// fuzzTest: the correct pingpong passes a batch of seeds in-process; the known-bug variant
// fails with a message that carries the replay path and the command that reproduces it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { readReplay } from './replay-file.ts';
import { firstFailingSeed } from './run.ts';
import { fuzzSeeds, fuzzTest } from './vitest.ts';

fuzzTest('pingpong survives crashes, partitions and torn writes', 'pingpong', { seeds: 25 });

describe('fuzzTest failures', () => {
  it('name the seed, the invariant, the replay file and the repro command', () => {
    const out = mkdtempSync(join(tmpdir(), 'faultline-fuzztest-'));
    const report = fuzzSeeds('pingpong', { seeds: 25, variant: 'ack-before-fsync', out });
    const failure = report.failure;
    // The first failing seed of the 25, whichever it is under the current seed derivation.
    const first = firstFailingSeed('pingpong', 'ack-before-fsync', 25);
    expect(first?.violation.invariant).toBe('acked-pings-durable');
    expect(failure?.seed).toBe(first?.seed);
    expect(failure?.message).toContain(
      `pingpong (variant ack-before-fsync) seed ${first?.seed} fails acked-pings-durable`,
    );
    expect(failure?.message).toContain(`npx faultline replay ${failure?.replay}`);
    expect(readReplay(failure?.replay as string).seed).toBe(first?.seed);
  });

  it('reject an unknown variant at once', () => {
    expect(() => fuzzSeeds('pingpong', { seeds: 1, variant: 'nope' })).toThrow(/no variant "nope"/);
  });
});
