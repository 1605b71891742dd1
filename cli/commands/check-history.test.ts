import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DATA = fileURLToPath(new URL('../../../shared/histories/porcupine/', import.meta.url));
const etcd = (n: string) => join(DATA, 'jepsen', `etcd_${n}.log`);
const kv = (name: string) => join(DATA, 'kv', `${name}.txt`);
const KNOSSOS = fileURLToPath(
  new URL('../../invariants/linearizability/knossos-data/', import.meta.url),
);
const knossos = (path: string) => join(KNOSSOS, path);

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
    expect(run.stdout).toMatch(
      /etcd_005\.log: linearizable \(79 operations, [\d.]+ ms, porcupine semantics\)/,
    );
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

  it('reads Jepsen EDN with Jepsen semantics and says so; --semantics and --initial override', () => {
    const good = knossos('cas-register/good/memstress3-54.edn');
    const jepsen = faultline(good, '--model', 'register');
    expect(jepsen.code).toBe(0);
    expect(jepsen.stdout).toMatch(/memstress3-54\.edn: linearizable \(.*, jepsen semantics\)/);
    const porcupine = faultline(good, '--model', 'register', '--semantics', 'porcupine');
    expect(porcupine.code).toBe(1);
    expect(porcupine.stdout).toMatch(/NOT linearizable \(.*, porcupine semantics\)/);
    // The register starts at 0 in Knossos's tests; a first read of 3 cannot be placed then.
    const bad = knossos('cas-register/bad/immediate-failure.edn');
    expect(faultline(bad, '--model', 'register', '--initial', '0').code).toBe(1);
    const json = faultline(good, '--model', 'register', '--initial', '0', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ verdict: 'linearizable', semantics: 'jepsen' });
  });

  it('checks the Knossos models: a multi-register with an initial map, a mutex', () => {
    const multi = faultline(
      knossos('multi-register/good/multi-register.edn'),
      '--model',
      'multi-register',
      '--initial',
      '{:x 0 :y 0}',
    );
    expect(multi.code).toBe(0);
    const mutex = faultline(knossos('mutex/bad/etcd.edn'), '--model', 'mutex');
    expect(mutex.code).toBe(1);
    expect(mutex.stdout).toMatch(
      /Not linearizable: (acquire|release)\(\) by client \d+ \(lines \d+–\d+\)/,
    );
  });

  it('exits 2 for an --initial that is malformed or does not fit the model', () => {
    const good = knossos('cas-register/good/memstress3-1.edn');
    const malformed = faultline(good, '--model', 'register', '--initial', '[1');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--initial must be one EDN or JSON value');
    const mutex = faultline(knossos('mutex/bad/etcd.edn'), '--model', 'mutex', '--initial', '0');
    expect(mutex.code).toBe(2);
    expect(mutex.stderr).toContain(
      '--initial applies to the register and multi-register models, not mutex',
    );
    expect(mutex.stderr.trim().split('\n')).toHaveLength(1);
    const map = faultline(good, '--model', 'multi-register', '--initial', '3');
    expect(map.code).toBe(2);
  });

  it('lists every model and the semantics rules in --help', () => {
    const help = spawnSync(process.execPath, ['bin/faultline.mjs', 'check-history', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).stdout.replace(/\s+/g, ' ');
    for (const name of [
      'register',
      'kv',
      'mutex',
      'set',
      'unordered-queue',
      'fifo-queue',
      'multi-register',
    ]) {
      expect(help).toContain(`${name}:`);
    }
    expect(help).toContain('jepsen for EDN and JSON lines, porcupine for jepsen.util text logs');
  });

  it('writes the history as HTML with --html, for exactly one file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-check-history-html-'));
    const out = join(dir, 'etcd_000.html');
    const run = faultline(etcd('000'), '--model', 'register', '--html', out);
    expect(run.code).toBe(1);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('id="history-data"');
    expect(html).toContain('read() -&#62; 2 by client 11 (lines 85–86) cannot be placed');
    const two = faultline(etcd('000'), etcd('005'), '--model', 'register', '--html', out);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('--html draws one history: name exactly one file with it');
  });
});
