// Goal: faultline works in a user's own project from its packed tarball alone, with no
// checkout: `npm pack` (whose prepack writes the declarations), `npm install ./faultline-….tgz`
// into an empty project, and there `npx faultline list` shows the built-ins and the
// project's own scenario (cli/fixtures/user-project: a two-node counter store with its own
// invariant and a planted bug, in TypeScript, importing from 'faultline'); fuzzing it on two
// workers finds the bug, the replay file reproduces it, and the user's `tsc --strict --noEmit`
// over the project, entry-point types included, is clean. Method: all of it, for real, in a
// temporary directory; npm installs the dependencies from its cache (--prefer-offline: warm
// after `npm ci`).
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function exec(command: string, args: string[], cwd: string): Promise<Ran> {
  const startMs = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - startMs }));
  });
}

describe('the packed package in a project of its own', () => {
  it('installs, lists, fuzzes and replays the project scenario, and type-checks', async () => {
    const packs = mkdtempSync(join(tmpdir(), 'faultline-pack-'));
    const pack = await exec(NPM, ['pack', '--pack-destination', packs, '--json'], ROOT);
    expect(pack.code, pack.stderr).toBe(0);
    // What runs, and its declarations: no tests, fixtures, history data or benchmark results.
    const json = pack.stdout.slice(pack.stdout.indexOf('['));
    const shipped = (JSON.parse(json) as { files: { path: string }[] }[])[0]?.files ?? [];
    const stray = shipped
      .map((file) => file.path)
      .filter(
        (name) =>
          !/^(README\.md|package\.json|bin\/faultline\.mjs|viewer\/page\.(js|css)|viewer\/page-decode\.js|sim\/fuzz\/worker-entry\.mjs)$/.test(
            name,
          ) && !(name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.includes('fixtures/')),
      );
    expect(stray).toEqual([]);
    expect(shipped.some((file) => file.path === 'dist/types/api/index.d.ts')).toBe(true);
    const tarball = readdirSync(packs).find((name) => name.endsWith('.tgz'));
    expect(tarball).toMatch(/^faultline-\d+\.\d+\.\d+\.tgz$/);
    const path = join(packs, tarball ?? '');

    const project = mkdtempSync(join(tmpdir(), 'faultline-user-'));
    cpSync(join(ROOT, 'cli', 'fixtures', 'user-project'), project, { recursive: true });
    const install = await exec(
      NPM,
      ['install', path, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error'],
      project,
    );
    expect(install.code, install.stderr).toBe(0);

    // The user's compiler and the CLI at the same time: they share nothing but the install.
    const typecheck = exec(process.execPath, [TSC, '-p', 'tsconfig.json'], project);
    const list = await exec(NPX, ['faultline', 'list'], project);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^raft-figure8 — /m);
    expect(list.stdout).toMatch(/^counter — A counter store and one client/m);

    const fuzz = await exec(
      NPX,
      [
        ...['faultline', 'fuzz', 'counter', '--variant', 'ack-before-fsync', '--seeds', '40'],
        ...['--workers', '2', '--stop-on-first', '--json'],
      ],
      project,
    );
    expect(fuzz.code, fuzz.stderr).toBe(1);
    expect(fuzz.stderr).not.toMatch(/through tsx/); // the workers ran the bundle
    const summary = JSON.parse(fuzz.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(summary.findings[0]?.invariant).toBe('acked-survives-crash');
    const replay = await exec(NPX, ['faultline', 'replay', summary.replays[0]], project);
    expect(replay.code, replay.stderr).toBe(1);
    expect(replay.stdout).toMatch(/matches the recorded run \([\d,]+ events\): same run/);
    expect(replay.stdout).toMatch(/reproduced: acked-survives-crash fails again/);

    // Elsewhere (here: this checkout) the project's scenario is unknown, and the refusal says
    // where it replays.
    const elsewhere = await exec(
      NPX,
      ['faultline', 'replay', join(project, summary.replays[0])],
      ROOT,
    );
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/no scenario named "counter".*replay from that project\)\n$/);

    const types = await typecheck;
    expect(`${types.stdout}${types.stderr}`).toBe('');
    expect(types.code).toBe(0);
    process.stdout.write(
      `tarball ${Math.round(statSync(path).size / 1024)} KiB; pack ${Math.round(pack.ms)} ms, install ${Math.round(install.ms)} ms, list ${Math.round(list.ms)} ms, fuzz ${Math.round(fuzz.ms)} ms, replay ${Math.round(replay.ms)} ms, tsc ${Math.round(types.ms)} ms\n`,
    );
  }, 240_000);
});
