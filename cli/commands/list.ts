import { planFor } from '../../sim/plan.ts';
import { allScenarios, planGroups, type Scenario } from '../../sim/scenario.ts';
import type { LogRange, ShapeSpec } from '../../sim/shape.ts';
import { Topology } from '../../sim/topology.ts';
import { EXIT_OK } from '../errors.ts';
import { formatUs } from '../format.ts';
import type { Command } from './index.ts';
import '../args.ts'; // registers the scenarios

export const listCommand: Command = {
  scenarios: true,
  command: 'list',
  describe: 'List every scenario: description, parameters and known-bug variants',
  builder: (yargs) =>
    yargs.option('json', { type: 'boolean', default: false, describe: 'print one JSON array' }),
  run: async (args) => {
    const scenarios = allScenarios();
    if (args.json) {
      process.stdout.write(`${JSON.stringify(scenarios.map(scenarioJson))}\n`);
      return EXIT_OK;
    }
    const blocks = scenarios.map((scenario) => scenarioLines(scenario).join('\n'));
    process.stdout.write(`${blocks.join('\n\n')}\n`);
    return EXIT_OK;
  },
};

function topologyOf(scenario: Scenario): Topology {
  return new Topology(planGroups(scenario));
}

function scenarioJson(scenario: Scenario) {
  return {
    name: scenario.name,
    description: scenario.description,
    system: scenario.system,
    groups: scenario.groups.map((group) => ({
      name: group.name,
      size: group.size,
      client: group.client === true,
    })),
    topology: topologyOf(scenario).describe(),
    durationUs: scenario.durationUs,
    settleUs: scenario.settleUs,
    faultsEligible: scenario.faults.eligible,
    faultsScripted: scriptedFaults(scenario),
    swarm: scenario.faults.swarm,
    workload: scenario.workload,
    ...(scenario.shape === undefined ? {} : { shape: scenario.shape }),
    variants: scenario.variants,
    sometimes: Object.keys(scenario.sometimes ?? {}),
  };
}

function scenarioLines(scenario: Scenario): string[] {
  const workload = Object.entries(scenario.workload)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  const lines = [
    `${scenario.name} — ${scenario.description}`,
    `  system ${scenario.system} · ${formatUs(scenario.durationUs)} of faults + ${formatUs(scenario.settleUs)} settle${workload ? ` · ${workload}` : ''}`,
    `  topology ${topologyOf(scenario).describe()}`,
    ...(scenario.shape === undefined
      ? []
      : [`  each seed draws ${shapeText(scenario.shape)} (pin with --set)`]),
    `  faults${scenario.faults.swarm ? ' (swarm: each seed picks a subset)' : ''}: ${faultsText(scenario)}`,
  ];
  const variants = Object.entries(scenario.variants);
  if (variants.length === 0) {
    lines.push('  no known-bug variants');
  } else {
    lines.push('  known-bug variants:');
    for (const [name, description] of variants) {
      lines.push(`    --variant ${name}  ${description}`);
    }
  }
  return lines;
}

/** "crash, partition", "none · scripted: partition, restart", or "none". */
function faultsText(scenario: Scenario): string {
  const eligible = scenario.faults.eligible.join(', ') || 'none';
  const scripted = scriptedFaults(scenario);
  return scripted.length === 0 ? eligible : `${eligible} · scripted: ${scripted.join(', ')}`;
}

/**
 * The fault kinds a scripted scenario's own plan acts (the MIT ports partition and restart
 * from their scripts, with no swarm faults eligible), in order of first use, heals left out.
 * Seed 0's plan stands for all: a script places its faults the same way on every seed.
 */
function scriptedFaults(scenario: Scenario): string[] {
  if (scenario.plan === undefined) {
    return [];
  }
  const quiet = { ...scenario, plan: undefined, faults: { ...scenario.faults, eligible: [] } };
  const plan = scenario.plan(0, planFor(quiet, 0));
  const kinds = plan.faults.map((fault) => fault.kind).filter((kind) => kind !== 'heal');
  return [...new Set(kinds)];
}

/** "durationUs 500 ms–15 s, servers 3|5, clients 1|2|3|4, thinkUs 1 ms–20 ms". */
function shapeText(shape: ShapeSpec): string {
  const range = (name: string, { min, max }: LogRange) =>
    name.endsWith('Us') ? `${formatUs(min)}–${formatUs(max)}` : `${min}–${max}`;
  return [
    ...(shape.durationUs === undefined
      ? []
      : [`durationUs ${range('durationUs', shape.durationUs)}`]),
    ...Object.entries(shape.groupSizes ?? {}).map(
      ([group, sizes]) => `${group} ${sizes.join('|')}`,
    ),
    ...Object.entries(shape.workload ?? {}).map(([name, spec]) => `${name} ${range(name, spec)}`),
  ].join(', ');
}
