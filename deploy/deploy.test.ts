// The GitHub workflow and the Kubernetes Indexed Job that split a campaign over machines:
// each file validated against its schema by a packaged validator, and each one's own shell
// run here as its engine would run it — every shard with the environment the engine sets,
// then the merge — on a small campaign with findings, so a broken script, a wrong variable or
// replay files the merge cannot find fail this test.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { validateWorkflow } from '@action-validator/core';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import type { FuzzSummary } from '../sim/fuzz/summary.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKFLOW = join(ROOT, '.github/workflows/fuzz.yml');
const JOB = join(ROOT, 'deploy/kubernetes/fuzz-job.yaml');
const FAULTLINE = `${process.execPath} ${join(ROOT, 'bin/faultline.mjs')}`;

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  with?: Record<string, string>;
}
interface WorkflowJob {
  needs?: string | string[];
  env?: Record<string, string>;
  steps: Step[];
}

function workflow(): { jobs: Record<string, WorkflowJob> } {
  return parse(readFileSync(WORKFLOW, 'utf8'));
}

function stepRunning(job: WorkflowJob, command: string): string {
  const step = job.steps.find((candidate) => candidate.run?.includes(command));
  if (step?.run === undefined) {
    throw new Error(`no step runs ${command}`);
  }
  return step.run.replaceAll('npx faultline', FAULTLINE);
}

/** Runs a step's script with bash -e, as GitHub does, and returns its exit code. */
function runStep(script: string, cwd: string, env: Record<string, string>): number {
  const result = spawnSync('bash', ['-e', '-c', script], {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return result.status ?? -1;
}

// Engines' variables the test process itself may carry (when CI runs on one of them).
const NO_ENGINE = {
  FAULTLINE_SHARD_INDEX: '',
  FAULTLINE_SHARD_COUNT: '',
  JOB_COMPLETION_INDEX: '',
  AWS_BATCH_JOB_ARRAY_INDEX: '',
  CI_NODE_INDEX: '',
  CIRCLE_NODE_INDEX: '',
  BUILDKITE_PARALLEL_JOB: '',
};

const CAMPAIGN = {
  SCENARIO: 'pingpong',
  SEEDS: '12',
  FROM: '0',
  VARIANT: 'ack-before-fsync',
};

describe('GitHub Actions workflow', () => {
  it('is a valid workflow', () => {
    const state = validateWorkflow(readFileSync(WORKFLOW, 'utf8'));
    expect(state.errors).toEqual([]);
  });

  it('the validator rejects a broken workflow (the check can fail)', () => {
    const broken = readFileSync(WORKFLOW, 'utf8').replace('runs-on:', 'runs_on:');
    expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
  });

  it('maps the matrix position to --shard auto and merges after every shard', () => {
    const jobs = workflow().jobs;
    const fuzz = jobs['fuzz'] as WorkflowJob;
    // GitHub expressions, not template strings.
    const expression = (name: string) => `\${{ ${name} }}`;
    expect(fuzz.env?.['FAULTLINE_SHARD_INDEX']).toBe(expression('strategy.job-index'));
    expect(fuzz.env?.['FAULTLINE_SHARD_COUNT']).toBe(expression('strategy.job-total'));
    expect(stepRunning(fuzz, 'faultline fuzz')).toContain('--shard auto');
    expect(jobs['merge']?.needs).toBe('fuzz');
  });

  it("runs each shard's script, then the merge, which finds every replay and fails on the findings", () => {
    const jobs = workflow().jobs;
    const fuzzScript = stepRunning(jobs['fuzz'] as WorkflowJob, 'faultline fuzz');
    const mergeScript = stepRunning(jobs['merge'] as WorkflowJob, 'faultline merge');
    const workspace = mkdtempSync(join(tmpdir(), 'faultline-gha-'));
    const shardCount = 3;
    const shardSummaries: FuzzSummary[] = [];
    for (let index = 0; index < shardCount; index++) {
      // Each matrix job has its own checkout; download-artifact puts each in shards/<name>/.
      const machine = join(workspace, 'shards', `shard-${index}`);
      mkdirSync(machine, { recursive: true });
      const code = runStep(fuzzScript, machine, {
        ...NO_ENGINE,
        ...CAMPAIGN,
        FAULTLINE_SHARD_INDEX: String(index),
        FAULTLINE_SHARD_COUNT: String(shardCount),
      });
      expect(code).toBe(0);
      const summary = JSON.parse(readFileSync(join(machine, 'summary.json'), 'utf8'));
      expect(summary.shard).toEqual({ index, count: shardCount });
      shardSummaries.push(summary);
    }
    const stepSummary = join(workspace, 'step-summary.md');
    const code = runStep(mergeScript, workspace, {
      ...NO_ENGINE,
      GITHUB_STEP_SUMMARY: stepSummary,
    });
    expect(code).toBe(1);
    const merged = JSON.parse(readFileSync(join(workspace, 'merged.json'), 'utf8')) as FuzzSummary;
    expect(merged.seeds).toBe(12);
    expect(merged.shardsMissing).toEqual([]);
    expect(merged.failed).toBe(shardSummaries.reduce((sum, shard) => sum + shard.failed, 0));
    expect(merged.failed).toBeGreaterThan(0);
    expect(merged.replays.length).toBe(merged.failed);
    for (const replay of merged.replays) {
      expect(existsSync(join(workspace, replay))).toBe(true);
    }
    expect(readFileSync(stepSummary, 'utf8')).toContain('merged 3 summaries');
  }, 60_000);
});

describe('Kubernetes Indexed Job', () => {
  const manifest = () => parse(readFileSync(JOB, 'utf8'));

  it('is a valid batch/v1 Job, Indexed, whose shard count equals its completions', () => {
    const job = manifest();
    expect(() => new Job(job).validate()).not.toThrow();
    expect(job.spec.completionMode).toBe('Indexed');
    const container = job.spec.template.spec.containers[0];
    const count = container.env.find(
      (variable: { name: string }) => variable.name === 'FAULTLINE_SHARD_COUNT',
    );
    expect(Number(count.value)).toBe(job.spec.completions);
    expect(container.args.join(' ')).toContain('--shard auto');
  });

  it('the schema check rejects a malformed Job (the check can fail)', () => {
    const job = manifest();
    job.spec.completionMode = 'Indexd';
    expect(() => new Job(job).validate()).toThrow(/completionMode/);
  });

  it("runs each pod's command with its completion index, and the merge over the volume", () => {
    const job = manifest();
    const container = job.spec.template.spec.containers[0];
    const volume = mkdtempSync(join(tmpdir(), 'faultline-k8s-'));
    const command = (container.args as string[])
      .join(' ')
      .replaceAll('/campaign', volume)
      .replaceAll('npx faultline', FAULTLINE);
    const completions = 2;
    for (let index = 0; index < completions; index++) {
      const result = spawnSync('/bin/sh', ['-c', command], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...NO_ENGINE,
          ...CAMPAIGN,
          // The manifest names no variant: a scenario whose correct configuration loses
          // events (seeds 0 and 1 fail) gives the merge findings and replays to collect.
          SCENARIO: 'dual-write',
          SEEDS: '6',
          JOB_COMPLETION_INDEX: String(index),
          FAULTLINE_SHARD_COUNT: String(completions),
        },
        encoding: 'utf8',
      });
      expect(result.stderr).toContain(`shard ${index}/${completions} from Kubernetes Indexed Job`);
    }
    const merge = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin/faultline.mjs'),
        'merge',
        join(volume, 'shard-0/summary.json'),
        join(volume, 'shard-1/summary.json'),
        '--json',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    const merged = JSON.parse(merge.stdout.trim()) as FuzzSummary;
    expect(merged.failed).toBeGreaterThan(0);
    expect(merge.status).toBe(1);
    expect(merged.replays).toHaveLength(merged.failed);
    for (const replay of merged.replays) {
      expect(existsSync(replay)).toBe(true);
    }
    expect(merged.seeds).toBe(6);
    expect(merged.shardsMissing).toEqual([]);
  }, 60_000);
});
