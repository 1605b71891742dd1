// Goal: a scenario that cannot be registered is refused with a ScenarioError whose sentence
// names what to fix (the CLI prints it and exits 2); a well-formed one registers. Method:
// register a valid minimal scenario, then copies each broken in one field.
import { describe, expect, it } from 'vitest';

import {
  findScenario,
  registerScenario,
  type Scenario,
  ScenarioError,
  setScenarioSource,
} from './scenario.ts';

let serial = 0;

function minimal(): Scenario {
  serial++;
  return {
    name: `registration-test-${serial}`,
    description: 'one idle node',
    system: 'test',
    groups: [{ name: 'servers', size: 1, prefix: 'n', program: () => ({}) as never }],
    durationUs: 1_000,
    settleUs: 0,
    faults: { eligible: ['crash'], swarm: false },
    workload: {},
    variants: {},
    invariants: () => [],
  };
}

function refusal(scenario: unknown): string {
  try {
    registerScenario(scenario as Scenario);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as Error).message;
  }
  throw new Error('the scenario was registered');
}

describe('registerScenario', () => {
  it('registers a well-formed scenario', () => {
    const scenario = minimal();
    registerScenario(scenario);
    expect(findScenario(scenario.name)).toBe(scenario);
  });

  it('refuses a name used twice, naming both sources', () => {
    const scenario = minimal();
    setScenarioSource('scenarios/a.ts');
    registerScenario(scenario);
    setScenarioSource('scenarios/b.ts');
    const message = refusal({ ...scenario });
    setScenarioSource(undefined);
    expect(message).toBe(
      `scenario ${scenario.name} is registered by scenarios/a.ts and again by scenarios/b.ts: scenario names must be unique`,
    );
  });

  it('refuses an unknown fault kind, listing the known ones', () => {
    const scenario = minimal();
    const message = refusal({
      ...scenario,
      faults: { eligible: ['crash', 'meteor'], swarm: true },
    });
    expect(message).toMatch(
      new RegExp(
        `^scenario ${scenario.name}: there is no fault kind "meteor" \\(known: partition, crash, `,
      ),
    );
    const excluded = refusal({
      ...minimal(),
      faults: { eligible: [], swarm: false, excludeGroups: { crashes: ['servers'] } },
    });
    expect(excluded).toMatch(/no fault kind "crashes"/);
  });

  it('refuses malformed scenarios with the field to fix', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: '' }, /a scenario's name must be a string/],
      [{ name: 7 }, /a scenario's name must be a string .* got 7/],
      [{ description: undefined }, /description must be a string/],
      [{ durationUs: 1.5 }, /durationUs must be a non-negative integer \(microseconds\), got 1.5/],
      [{ groups: [] }, /groups must be a non-empty array/],
      [{ groups: [{ name: 'servers', size: 2 }] }, /group servers needs a program/],
      [
        { groups: [{ name: 'servers', size: -1, program: () => ({}) }] },
        /group servers needs a size/,
      ],
      [{ faults: ['crash'] }, /faults must be \{ eligible/],
      [{ faults: { eligible: [] } }, /faults.swarm must be true or false/],
      [{ invariants: [] }, /invariants must be a function/],
      [{ variants: undefined }, /variants must be an object/],
      [{ sometimes: { reached: true } }, /sometimes.reached must be a function/],
      [{ plan: {} }, /plan must be a function/],
    ];
    for (const [edit, expected] of cases) {
      const scenario = { ...minimal(), ...edit };
      expect(refusal(scenario), JSON.stringify(edit)).toMatch(expected);
    }
    expect(refusal(undefined)).toMatch(/registerScenario was given undefined/);
  });
});
