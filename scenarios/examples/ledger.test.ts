// Goal: the scenario README teaches with is real — the same code, compiling, registering,
// showing its topology and passing its seeds — so the docs cannot drift from the API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import './ledger.ts';
import { planFor } from '../../sim/plan.ts';
import { runSeed, scenarioNamed } from '../../sim/run.ts';
import { Topology } from '../../sim/topology.ts';

const root = join(import.meta.dirname, '..', '..');

describe('the README’s two-group scenario', () => {
  it('is exactly the code README shows (imports as seen from scenarios/)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Writing a scenario'));
    const shown = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    const file = readFileSync(join(import.meta.dirname, 'ledger.ts'), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('//'))
      .join('\n')
      .replaceAll("'../../", "'../");
    expect(shown).toBe(file);
  });

  it('has the topology README says and passes a few seeds', () => {
    const scenario = scenarioNamed('ledger');
    expect(Topology.of(planFor(scenario, 0)).describe()).toBe(
      'ledger 3 (ledger1–ledger3), clients 2 (c1–c2, client)',
    );
    for (const seed of [0, 1, 2]) {
      const { result } = runSeed('ledger', seed);
      expect(result.violation?.message, `seed ${seed}`).toBeUndefined();
    }
  });

  it('finds the Figure 8 bug in it, as `raft:commit-previous-term`', () => {
    let found: string | undefined;
    for (let seed = 0; seed < 200 && found === undefined; seed++) {
      found = runSeed('ledger', seed, 'raft:commit-previous-term').result.violation?.invariant;
    }
    expect(found).toBe('commit-rule');
  }, 120_000);
});
