// Goal: a scenario added as scenarios/foo.ts shows up in `faultline list` only once
// scenarios/index.ts imports it; this test fails, naming the import to add, when a module
// here registers a scenario that the index leaves out. Method: read the folder and the
// index; and check the check itself on a folder made to miss one.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

/** One sentence per module of `dir` that registers a scenario the index does not import. */
function missingFromIndex(dir: string): string[] {
  const index = readFileSync(join(dir, 'index.ts'), 'utf8');
  const imported = new Set([...index.matchAll(/^import '\.\/([^']+)';/gm)].map((m) => m[1]));
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts') && name !== 'index.ts')
    .filter((name) => /\bregisterScenario\s*\(/.test(readFileSync(join(dir, name), 'utf8')))
    .filter((name) => !imported.has(name))
    .map(
      (name) =>
        `scenarios/${name} registers a scenario that \`faultline list\` will not show: add \`import './${name}';\` to scenarios/index.ts`,
    );
}

describe('scenarios/index.ts', () => {
  it('imports every module in scenarios/ that registers a scenario', () => {
    const missing = missingFromIndex(import.meta.dirname);
    expect(missing, missing.join('\n')).toEqual([]);
  });

  it('names the import a module is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-index-'));
    writeFileSync(join(dir, 'index.ts'), "import './kept.ts';\n");
    writeFileSync(join(dir, 'kept.ts'), "registerScenario({ name: 'kept' });\n");
    writeFileSync(join(dir, 'foo.ts'), "registerScenario({ name: 'foo' });\n");
    writeFileSync(join(dir, 'helpers.ts'), 'export const x = 1;\n');
    expect(missingFromIndex(dir)).toEqual([
      "scenarios/foo.ts registers a scenario that `faultline list` will not show: add `import './foo.ts';` to scenarios/index.ts",
    ]);
  });
});
