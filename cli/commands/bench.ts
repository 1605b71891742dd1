import { benchKernel } from '../../bench/kernel.ts';
import { countArgument } from '../args.ts';
import { EXIT_OK, UsageError } from '../errors.ts';
import { formatCount } from '../format.ts';
import type { Command } from './index.ts';

export const benchCommand: Command = {
  command: 'bench <target>',
  describe: 'Measure the simulator: `bench kernel` prints events/s with faults off and on',
  builder: (yargs) =>
    yargs
      .positional('target', { type: 'string', describe: 'what to measure', choices: ['kernel'] })
      .option('nodes', { type: 'number', default: 8, describe: 'nodes bouncing messages' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' }),
  run: async (args) => {
    if (args.target !== 'kernel') {
      throw new UsageError(
        `unknown benchmark ${JSON.stringify(args.target)}; try \`bench kernel\``,
      );
    }
    const nodes = countArgument(args.nodes, '--nodes', 2);
    if (!args.json) {
      process.stderr.write(`measuring the kernel with ${nodes} nodes (about 10 s)…\n`);
    }
    const result = benchKernel(nodes);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return EXIT_OK;
    }
    process.stdout.write(
      [
        `faults off  ${formatCount(result.eventsPerSec)} events/s (${formatCount(result.events)} events, ${result.accelerationFaultsOff}× real time)`,
        `faults on   ${formatCount(result.eventsPerSecWithFaults)} events/s (${formatCount(result.eventsWithFaults)} events)`,
      ].join('\n') + '\n',
    );
    return EXIT_OK;
  },
};
