import { runSeed } from '../../sim/run.ts';
import { scenarioArgument, seedArgument } from '../args.ts';
import { EXIT_OK, EXIT_VIOLATION } from '../errors.ts';
import { summarizeResult } from '../format.ts';
import type { Command } from './index.ts';

export const runCommand: Command = {
  command: 'run <scenario>',
  describe: 'Run one seed of a scenario and print its outcome, trace hash and counts',
  builder: (yargs) =>
    yargs
      .positional('scenario', { type: 'string', describe: 'scenario name (see `faultline list`)' })
      .option('seed', { type: 'string', demandOption: true, describe: 'the seed to run' })
      .option('variant', { type: 'string', describe: 'a known-bug variant of the system' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 run pingpong --seed 1', 'run seed 1 of the example scenario'),
  run: async (args) => {
    const variant = typeof args.variant === 'string' ? args.variant : null;
    const scenario = scenarioArgument(args.scenario, variant);
    const seed = seedArgument(args.seed);
    const { result } = runSeed(scenario.name, seed, variant);
    if (args.json) {
      const { history: _history, ...rest } = result;
      process.stdout.write(
        `${JSON.stringify({ scenario: scenario.name, seed, variant, ...rest })}\n`,
      );
    } else {
      process.stdout.write(
        `${scenario.name} seed ${seed}${variant ? ` variant ${variant}` : ''}\n`,
      );
      process.stdout.write(
        `${summarizeResult(result)
          .map((line) => `  ${line}`)
          .join('\n')}\n`,
      );
      if (result.outcome !== 'pass') {
        const variantFlag = variant ? ` --variant ${variant}` : '';
        process.stdout.write(
          `reproduce: npx faultline run ${scenario.name} --seed ${seed}${variantFlag}\n`,
        );
      }
    }
    return result.outcome === 'pass' ? EXIT_OK : EXIT_VIOLATION;
  },
};
