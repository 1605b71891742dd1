// The fuzz workers' bundle: built from the sources (not tsx), content-addressed, carrying the
// extra scenario modules, and replaced by the tsx entry when it cannot be built.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { describe, expect, it } from 'vitest';

import { TSX_WORKER_ENTRY, workerEntry } from './worker-bundle.ts';

const FIXTURE = pathToFileURL(resolve('sim/fuzz/fixtures/misbehaving-scenario.ts')).href;

describe('workerEntry', () => {
  it('bundles the worker and the scenarios into one cached JavaScript file', async () => {
    const first = await workerEntry([]);
    expect(first.fallbackReason).toBeUndefined();
    expect(first.modulesBundled).toBe(true);
    const path = fileURLToPath(first.url);
    expect(path).toMatch(/node_modules\/\.cache\/faultline\/worker-[0-9a-f]{16}\.mjs$/);
    const code = readFileSync(path, 'utf8');
    expect(code).not.toContain('tsx/esm/api');
    expect(code).toContain('raft-figure8'); // a registered scenario made it in
    expect((await workerEntry([])).url.href).toBe(first.url.href);
  });

  it('puts extra scenario modules inside the bundle', async () => {
    const plain = await workerEntry([]);
    const withFixture = await workerEntry([FIXTURE]);
    expect(withFixture.modulesBundled).toBe(true);
    expect(withFixture.url.href).not.toBe(plain.url.href);
    expect(readFileSync(fileURLToPath(withFixture.url), 'utf8')).toContain('test-misbehave');
  });

  it("resolves a user module's 'faultline' imports to this package's own files", async () => {
    // Left external, `faultline` would load a second copy of the sources in the worker, with
    // a second, empty scenario registry (or fail: workers cannot load .ts without tsx).
    const user = resolve('cli/fixtures/user-project/faultline/counter.scenario.ts');
    const entry = await workerEntry([pathToFileURL(user).href]);
    expect(entry.fallbackReason).toBeUndefined();
    const code = readFileSync(fileURLToPath(entry.url), 'utf8');
    expect(code).toContain('acked-survives-crash');
    expect(code).not.toMatch(/from ["']faultline(\/[^"']*)?["']|import\(["']faultline/);
    // The registry is defined once: the scenario and the worker share it.
    expect(code.match(/\bregistry = (\/\* @__PURE__ \*\/ )?new Map\(\)/g)).toHaveLength(1);
  });

  it('falls back to the tsx entry, saying why, when a module cannot be bundled', async () => {
    const missing = pathToFileURL(resolve('no/such/scenario.ts')).href;
    const entry = await workerEntry([missing]);
    expect(entry.url.href).toBe(TSX_WORKER_ENTRY.url.href);
    expect(entry.modulesBundled).toBe(false);
    expect(entry.fallbackReason).toMatch(/scenario\.ts/);
  });
});
