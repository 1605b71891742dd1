// Goal: scenarios live where users put them. In a project with a faultline.config.ts (the
// fixture in cli/fixtures/user-project: a two-node counter store with its own invariant),
// `--scenarios` names other files instead, and a scenario that cannot register (a name used
// twice, a built-in's name, an unknown fault kind) or a bad config is one sentence and exit 2
// (malformed fields: sim/scenario.test.ts). Method: copy the fixture into a temporary
// directory whose node_modules/faultline links to this checkout and run the real CLI there.
// Fuzzing and replaying that scenario from an installed tarball is package/pack.test.ts.
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { runCli } from './spawn-cli.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = join(ROOT, 'cli', 'fixtures', 'user-project');

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-project-'));
  cpSync(FIXTURE, dir, { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'faultline'), 'dir');
  return dir;
}

function faultline(cwd: string, args: string[]) {
  return runCli(args, {}, cwd);
}

describe('scenarios in a project of its own', () => {
  it('finds the config from a subdirectory, and loads what --scenarios names instead', async () => {
    const dir = project();
    const source = readFileSync(join(dir, 'faultline', 'counter.scenario.ts'), 'utf8');
    writeFileSync(join(dir, 'other.ts'), source.replace("name: 'counter'", "name: 'other'"));
    const run = await faultline(dir, ['run', 'other', '--seed', '3', '--scenarios', 'other.ts']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^other seed 3\n {2}outcome {5}pass/);
    const missing = await faultline(dir, ['run', 'counter', '--seed', '3', '--scenarios', 'o*.ts']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      'faultline: there is no scenario named "counter"; `faultline list` shows them\n',
    );
    // From a subdirectory the config is found upward, its globs relative to itself.
    const below = await faultline(join(dir, 'faultline'), ['run', 'counter', '--seed', '3']);
    expect(below.code, below.stderr).toBe(0);
    const none = await faultline(dir, ['list', '--scenarios', 'nowhere/*.ts']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^faultline: --scenarios nowhere\/\*\.ts matches no files/);
  });

  it('refuses a scenario that cannot register with one sentence and exit 2', async () => {
    const dir = project();
    const path = join(dir, 'faultline', 'counter.scenario.ts');
    const source = readFileSync(path, 'utf8');
    writeFileSync(join(dir, 'faultline', 'twin.scenario.ts'), source);
    const twice = await faultline(dir, ['list']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe(
      'faultline: scenario counter is registered by faultline/counter.scenario.ts and again by faultline/twin.scenario.ts: scenario names must be unique\n',
    );
    writeFileSync(join(dir, 'faultline', 'twin.scenario.ts'), "export const nothing = 'here';\n");
    writeFileSync(path, source.replace("eligible: ['crash']", "eligible: ['crash', 'meteor']"));
    const unknown = await faultline(dir, ['fuzz', 'counter', '--seeds', '3']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^faultline: faultline\/counter\.scenario\.ts: scenario counter: there is no fault kind "meteor" \(known: partition, crash, [^\n]*\)\n$/,
    );
    writeFileSync(join(dir, 'faultline.config.ts'), 'export default { scenario: "x.ts" };\n');
    const config = await faultline(dir, ['list']);
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(/^faultline: faultline\.config\.ts should export default/);
  });

  it('refuses a second registration of a built-in name the same way', async () => {
    const dir = project();
    const source = readFileSync(join(dir, 'faultline', 'counter.scenario.ts'), 'utf8');
    writeFileSync(
      join(dir, 'faultline', 'counter.scenario.ts'),
      source.replace("name: 'counter'", "name: 'raft'"),
    );
    const run = await faultline(dir, ['list']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "faultline: scenario raft is registered by faultline's built-in scenarios and again by faultline/counter.scenario.ts: scenario names must be unique\n",
    );
  });

  it('warns when a scenario file registers into another copy of faultline', async () => {
    const dir = project();
    const other = join(dir, 'node_modules', 'faultline');
    rmSync(other);
    mkdirSync(other);
    writeFileSync(
      join(other, 'package.json'),
      JSON.stringify({ name: 'faultline', type: 'module', exports: { '.': './index.js' } }),
    );
    writeFileSync(
      join(other, 'index.js'),
      'export const registerScenario = () => {};\nexport const defineConfig = (config) => config;\n',
    );
    const run = await faultline(dir, ['list']);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/^counter — /m);
    expect(run.stderr).toBe(
      `faultline: warning: faultline/counter.scenario.ts calls registerScenario but registered nothing here; does it import another copy of faultline than this one (${ROOT})?\n`,
    );
  });
});
