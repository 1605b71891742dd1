import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DATA = fileURLToPath(new URL('../../../shared/histories/porcupine/', import.meta.url));
const etcd = (n: string) => join(DATA, 'jepsen', `etcd_${n}.log`);
const kv = (name: string) => join(DATA, 'kv', `${name}.txt`);

function faultline(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['bin/faultline.mjs', 'check-history', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('faultline check-history', () => {
  it('exits 0 when every file is linearizable', () => {
    const run = faultline(etcd('005'), etcd('100'), '--model', 'register');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/etcd_005\.log: linearizable \(79 operations, [\d.]+ ms\)/);
    expect(run.stdout).toMatch(/etcd_100\.log: linearizable \(/);
  });

  it('exits 1 and explains when a file is not linearizable', () => {
    const run = faultline(etcd('005'), etcd('000'), '--model', 'register');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/etcd_005\.log: linearizable/);
    expect(run.stdout).toMatch(/etcd_000\.log: NOT linearizable/);
    expect(run.stdout).toMatch(
      /cannot be placed\. The longest linearizable prefix found orders \d+ of 85 operations/,
    );
  });

  it('exits 3 when the budget runs out, and 1 when another file is not linearizable', () => {
    const unknown = faultline(etcd('002'), '--model', 'register', '--max-steps', '100');
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toMatch(/etcd_002\.log: unknown .*no verdict was guessed/);
    const mixed = faultline(
      etcd('002'),
      etcd('000'),
      '--model',
      'register',
      '--max-steps',
      '100000',
    );
    expect(mixed.code).toBe(1);
  });

  it('prints one JSON object per file with --json', () => {
    const run = faultline(kv('c01-bad'), kv('c01-ok'), '--model', 'kv', '--json');
    expect(run.code).toBe(1);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ file: kv('c01-bad'), verdict: 'not-linearizable' });
    expect(lines[0].explanation).toMatch(/^Not linearizable in key "\d+":/);
    expect(lines[1]).toMatchObject({ file: kv('c01-ok'), verdict: 'linearizable' });
    expect(typeof lines[1].ms).toBe('number');
    expect(lines[1].operations).toBe(58);
  });

  it('exits 2 with the file and line of malformed input, and no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-check-history-'));
    const file = join(dir, 'broken.jsonl');
    writeFileSync(
      file,
      '{"process":0,"type":"invoke","f":"read"}\n{"process":0,"type":"ok","f":"read",\n',
    );
    const run = faultline(file, '--model', 'register');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${file}: line 2: not valid JSON`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 for bad usage: no model, a model that does not fit, a missing file', () => {
    expect(faultline(etcd('005')).code).toBe(2);
    const wrongModel = faultline(etcd('005'), '--model', 'kv');
    expect(wrongModel.code).toBe(2);
    expect(wrongModel.stderr).toContain(
      'etcd_005.log: line 1: the kv model knows get, put and append, not read.',
    );
    const missing = faultline(join(DATA, 'nope.edn'), '--model', 'kv');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    const wrongFormat = faultline(etcd('005'), '--model', 'register', '--format', 'jsonl');
    expect(wrongFormat.code).toBe(2);
    expect(wrongFormat.stderr).toContain('etcd_005.log: line 1: not valid JSON');
  });
});
