// "Survives a crash at every line" as a test: one seed per crash point of the relay, the
// service and the consumers (after read, after publish, after position save; before and after
// commit; after fetch, after effect), at its first, second and third hit in every
// incarnation, with no other fault. The correct system passes every one, and the scripted
// crash really fired; the relay's two position bugs are each caught at some crash point; and
// the dual-writing service fails at exactly the points between its commit and its publish.
import { describe, expect, it } from 'vitest';
import { firstFailingSeed, runSeed } from '../sim/run.ts';
import { crashPointSeeds } from './outbox.ts';

describe('a crash at every line', () => {
  it.each([
    ['outbox-crash-points', 'cdc'],
    ['outbox-polling-crash-points', 'polling'],
  ] as const)(
    '%s: every crash point, every hit, passes',
    (scenario, relay) => {
      const seeds = crashPointSeeds(relay);
      expect(seeds).toBeGreaterThanOrEqual(18);
      for (let seed = 0; seed < seeds; seed++) {
        const { plan, result } = runSeed(scenario, seed);
        const where = `${scenario} seed ${seed} (${String(plan.workload['crashPoint'])} hit ${String(plan.workload['crashPointHit'])})`;
        expect(result.violation?.message, where).toBeUndefined();
        expect(result.sometimes, where).toContain('the scripted crash point killed a process');
      }
    },
    90_000,
  );

  it('dual-write loses events at exactly the crash points between its two writes', () => {
    for (let seed = 0; seed < crashPointSeeds('none'); seed++) {
      const { plan, result } = runSeed('dual-write-crash-points', seed);
      const point = String(plan.workload['crashPoint']);
      const between = point === 'service-after-commit' || point === 'service-after-publish';
      const where = `dual-write-crash-points seed ${seed} (${point})`;
      if (between) {
        expect(result.violation?.invariant, where).toBe('outbox-committed-delivered');
        expect(result.violation?.message, where).toMatch(`crash point ${point}`);
      } else {
        expect(result.violation?.message, where).toBeUndefined();
      }
    }
  }, 60_000);

  it.each([['relay-position-per-lsn'], ['relay-saves-position-before-publish']])(
    'outbox-crash-points catches %s at some crash point',
    (variant) => {
      const found = firstFailingSeed('outbox-crash-points', variant, crashPointSeeds('cdc'));
      expect(found?.violation.invariant).toBe('outbox-committed-delivered');
    },
    60_000,
  );
});
