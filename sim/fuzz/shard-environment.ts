// `--shard auto`: the shard a batch engine gave this process, read from the environment each
// engine sets for the copies it runs. A Kubernetes Indexed Job numbers its pods through
// JOB_COMPLETION_INDEX but exposes no completion count, so its manifest passes the count as
// FAULTLINE_SHARD_COUNT; GitHub's matrix has `strategy.job-index` and `strategy.job-total`
// only as expressions, so its workflow passes them as FAULTLINE_SHARD_INDEX and _COUNT.
// GitLab, CircleCI and Buildkite set both numbers themselves.
import { SHARD_COUNT_MAX, type Shard } from './seeds.ts';

export interface EnvironmentShard {
  shard: Shard;
  /** Which engine's variables named it, for the line fuzz prints. */
  source: string;
}

interface Engine {
  name: string;
  index: string;
  count: string;
  /** GitLab counts its parallel jobs from 1. */
  firstIndex: 0 | 1;
}

export const SHARD_INDEX_VARIABLE = 'FAULTLINE_SHARD_INDEX';
export const SHARD_COUNT_VARIABLE = 'FAULTLINE_SHARD_COUNT';

// The explicit pair first: a user who sets it means it, whatever engine runs the job.
const ENGINES: readonly Engine[] = [
  { name: 'faultline', index: SHARD_INDEX_VARIABLE, count: SHARD_COUNT_VARIABLE, firstIndex: 0 },
  {
    name: 'Kubernetes Indexed Job',
    index: 'JOB_COMPLETION_INDEX',
    count: SHARD_COUNT_VARIABLE,
    firstIndex: 0,
  },
  {
    name: 'AWS Batch array job',
    index: 'AWS_BATCH_JOB_ARRAY_INDEX',
    count: SHARD_COUNT_VARIABLE,
    firstIndex: 0,
  },
  { name: 'GitLab parallel job', index: 'CI_NODE_INDEX', count: 'CI_NODE_TOTAL', firstIndex: 1 },
  { name: 'CircleCI', index: 'CIRCLE_NODE_INDEX', count: 'CIRCLE_NODE_TOTAL', firstIndex: 0 },
  {
    name: 'Buildkite',
    index: 'BUILDKITE_PARALLEL_JOB',
    count: 'BUILDKITE_PARALLEL_JOB_COUNT',
    firstIndex: 0,
  },
];

/**
 * The shard named by the first engine whose index variable is set, or a sentence saying what
 * is missing or wrong.
 */
export function shardFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): EnvironmentShard | string {
  for (const engine of ENGINES) {
    const indexText = env[engine.index];
    if (indexText === undefined || indexText === '') {
      continue;
    }
    const countText = env[engine.count];
    if (countText === undefined || countText === '') {
      return `--shard auto: ${engine.index} is set (${engine.name}) but ${engine.count} is not; set ${engine.count} to the number of shards`;
    }
    const index = wholeNumber(indexText);
    const count = wholeNumber(countText);
    if (index === null) {
      return `--shard auto: ${engine.index} should be a whole number, got ${JSON.stringify(indexText)}`;
    }
    if (count === null || count < 1 || count > SHARD_COUNT_MAX) {
      return `--shard auto: ${engine.count} should be a whole number from 1 to ${SHARD_COUNT_MAX}, got ${JSON.stringify(countText)}`;
    }
    const shardIndex = index - engine.firstIndex;
    if (shardIndex < 0 || shardIndex >= count) {
      return `--shard auto: ${engine.index}=${index} is outside ${engine.firstIndex}..${count - 1 + engine.firstIndex} for ${engine.count}=${count}`;
    }
    return {
      shard: { index: shardIndex, count },
      source: `${engine.name}: ${engine.index}=${indexText}, ${engine.count}=${countText}`,
    };
  }
  return `--shard auto found no shard in the environment: set ${SHARD_INDEX_VARIABLE} and ${SHARD_COUNT_VARIABLE}, or run it as a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with ${SHARD_COUNT_VARIABLE} set to the completions), a GitLab parallel job, a CircleCI parallel step or a Buildkite parallel job`;
}

function wholeNumber(text: string): number | null {
  if (!/^\d{1,9}$/.test(text.trim())) {
    return null;
  }
  return Number(text.trim());
}
