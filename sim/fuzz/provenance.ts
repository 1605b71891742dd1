// Where and from what a campaign ran: the code version (git commit, and whether the checkout
// had uncommitted changes), the machine, when it started, and how fast it went. A fresh
// summary holds one of these; a merge keeps every shard's, so a report can say which
// machines ran which seeds and warn when they ran different code.
import { spawnSync } from 'node:child_process';
import { arch, cpus, hostname, platform, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

import { faultlineVersion } from '../replay-file.ts';
import type { Shard } from './seeds.ts';

export interface RunInfo {
  /** git HEAD of the checkout that ran, or null outside a git checkout. */
  commit: string | null;
  /** Uncommitted changes to tracked files (null when unknown). */
  dirty: boolean | null;
  faultlineVersion: string;
  node: string;
  hostname: string;
  platform: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  shard: Shard | null;
  from: number;
  seeds: number;
  elapsedMs: number;
  workers: number;
  seedsPerSec: number;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GIT_TIMEOUT_MS = 5000;

let codeCache: { commit: string | null; dirty: boolean | null } | undefined;

/** The checkout's commit and dirtiness, asked of git once per process. */
export function codeVersion(): { commit: string | null; dirty: boolean | null } {
  if (codeCache === undefined) {
    const git = (args: string[]) =>
      spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', timeout: GIT_TIMEOUT_MS });
    const head = git(['rev-parse', 'HEAD']);
    const commit = head.status === 0 ? head.stdout.trim() : null;
    let dirty: boolean | null = null;
    if (commit !== null) {
      const status = git(['status', '--porcelain', '--untracked-files=no']);
      dirty = status.status === 0 ? status.stdout.trim().length > 0 : null;
    }
    codeCache = {
      commit: commit !== null && /^[0-9a-f]{7,64}$/.test(commit) ? commit : null,
      dirty,
    };
  }
  return codeCache;
}

/** Everything about this machine and code; the campaign fills in the counts. */
export function runInfo(
  counts: Pick<RunInfo, 'shard' | 'from' | 'seeds' | 'elapsedMs' | 'workers' | 'seedsPerSec'>,
  startedAt: Date,
): RunInfo {
  const processors = cpus();
  return {
    ...codeVersion(),
    faultlineVersion: faultlineVersion(),
    node: process.version,
    hostname: hostname(),
    platform: platform(),
    arch: arch(),
    cpus: processors.length,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    memoryMb: Math.round(totalmem() / (1024 * 1024)),
    startedAt: startedAt.toISOString(),
    ...counts,
  };
}
