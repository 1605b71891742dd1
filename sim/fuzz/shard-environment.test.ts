import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { shardSeed, shardSeedCount } from './seeds.ts';
import { shardFromEnvironment } from './shard-environment.ts';

describe('shardFromEnvironment', () => {
  it("reads each engine's variables, GitLab counting from 1", () => {
    const cases: [Record<string, string>, number, number, string][] = [
      [{ FAULTLINE_SHARD_INDEX: '3', FAULTLINE_SHARD_COUNT: '8' }, 3, 8, 'faultline'],
      [{ JOB_COMPLETION_INDEX: '0', FAULTLINE_SHARD_COUNT: '20' }, 0, 20, 'Kubernetes'],
      [{ AWS_BATCH_JOB_ARRAY_INDEX: '7', FAULTLINE_SHARD_COUNT: '10' }, 7, 10, 'AWS Batch'],
      [{ CI_NODE_INDEX: '1', CI_NODE_TOTAL: '4' }, 0, 4, 'GitLab'],
      [{ CI_NODE_INDEX: '4', CI_NODE_TOTAL: '4' }, 3, 4, 'GitLab'],
      [{ CIRCLE_NODE_INDEX: '2', CIRCLE_NODE_TOTAL: '3' }, 2, 3, 'CircleCI'],
      [{ BUILDKITE_PARALLEL_JOB: '5', BUILDKITE_PARALLEL_JOB_COUNT: '6' }, 5, 6, 'Buildkite'],
    ];
    for (const [env, index, count, engine] of cases) {
      const found = shardFromEnvironment(env);
      expect(found, JSON.stringify(env)).toMatchObject({ shard: { index, count } });
      expect(typeof found === 'string' ? found : found.source).toContain(engine);
    }
  });

  it('the explicit pair wins over an engine the job also runs on', () => {
    const found = shardFromEnvironment({
      FAULTLINE_SHARD_INDEX: '1',
      FAULTLINE_SHARD_COUNT: '2',
      CI_NODE_INDEX: '3',
      CI_NODE_TOTAL: '5',
    });
    expect(found).toMatchObject({ shard: { index: 1, count: 2 } });
  });

  it('says in one sentence what is missing or out of range', () => {
    expect(shardFromEnvironment({})).toMatch(/^--shard auto found no shard in the environment/);
    expect(shardFromEnvironment({ JOB_COMPLETION_INDEX: '2' })).toMatch(
      /JOB_COMPLETION_INDEX is set \(Kubernetes Indexed Job\) but FAULTLINE_SHARD_COUNT is not/,
    );
    expect(shardFromEnvironment({ JOB_COMPLETION_INDEX: '5', FAULTLINE_SHARD_COUNT: '5' })).toMatch(
      /JOB_COMPLETION_INDEX=5 is outside 0\.\.4/,
    );
    expect(shardFromEnvironment({ CI_NODE_INDEX: '0', CI_NODE_TOTAL: '4' })).toMatch(
      /CI_NODE_INDEX=0 is outside 1\.\.4/,
    );
    expect(
      shardFromEnvironment({ FAULTLINE_SHARD_INDEX: 'x', FAULTLINE_SHARD_COUNT: '2' }),
    ).toMatch(/should be a whole number/);
    expect(
      shardFromEnvironment({ FAULTLINE_SHARD_INDEX: '0', FAULTLINE_SHARD_COUNT: '0' }),
    ).toMatch(/from 1 to/);
  });

  it('the shards of every index an engine hands out cover the seed range once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 300 }),
        (count, total) => {
          const seen: number[] = [];
          for (let node = 1; node <= count; node++) {
            const found = shardFromEnvironment({
              CI_NODE_INDEX: String(node),
              CI_NODE_TOTAL: String(count),
            });
            if (typeof found === 'string') {
              return false;
            }
            for (let k = 0; k < shardSeedCount(total, found.shard); k++) {
              seen.push(shardSeed(0, found.shard, k));
            }
          }
          seen.sort((a, b) => a - b);
          return seen.length === total && seen.every((seed, position) => seed === position);
        },
      ),
    );
  });
});
