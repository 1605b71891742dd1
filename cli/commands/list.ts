import { allScenarios, planGroups, type Scenario } from '../../sim/scenario.ts';
import { Topology } from '../../sim/topology.ts';
import { EXIT_OK } from '../errors.ts';
import { formatUs } from '../format.ts';
import type { Command } from './index.ts';
import '../args.ts'; // registers the scenarios

export const listCommand: Command = {
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
    swarm: scenario.faults.swarm,
    workload: scenario.workload,
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
    `  faults${scenario.faults.swarm ? ' (swarm: each seed picks a subset)' : ''}: ${scenario.faults.eligible.join(', ') || 'none'}`,
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
