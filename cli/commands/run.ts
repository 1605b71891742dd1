import { planFor } from '../../sim/plan.ts';
import { runSeed } from '../../sim/run.ts';
import { TraceRecorder } from '../../sim/trace-log.ts';
import { timelineOptions, viewerOptions, wantsTrace, writeViews } from '../../viewer/output.ts';
import { pinsArgument, SET_OPTION, scenarioArgument, seedArgument } from '../args.ts';
import { EXIT_OK, EXIT_VIOLATION } from '../errors.ts';
import { summarizeResult } from '../format.ts';
import { exitQuietlyOnClosedStdout } from '../stdout.ts';
import type { Command } from './index.ts';

export const runCommand: Command = {
  scenarios: true,
  command: 'run <scenario>',
  describe: 'Run one seed of a scenario and print its outcome, trace hash and counts',
  builder: (yargs) =>
    viewerOptions(yargs)
      .positional('scenario', { type: 'string', describe: 'scenario name (see `faultline list`)' })
      .option('seed', { type: 'string', demandOption: true, describe: 'the seed to run' })
      .option('variant', { type: 'string', describe: 'a known-bug variant of the system' })
      .option('set', SET_OPTION)
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 run pingpong --seed 1', 'run seed 1 of the example scenario')
      .example(
        '$0 run pingpong --seed 0 --html faultline-out/pingpong-seed0.html',
        'draw the run as a space-time diagram',
      ),
  run: async (args) => {
    exitQuietlyOnClosedStdout(); // `run --timeline | head` is a normal thing to do
    const variant = typeof args.variant === 'string' ? args.variant : null;
    const scenario = scenarioArgument(args.scenario, variant);
    const seed = seedArgument(args.seed);
    const pins = pinsArgument(args.set, scenario);
    timelineOptions(args, planFor(scenario, seed, variant, pins)); // bad filters: before the run
    const trace = wantsTrace(args) ? new TraceRecorder() : undefined;
    const { plan, result } = runSeed(scenario.name, seed, variant, trace ? { trace } : {}, pins);
    if (trace) {
      // With --json, stdout is for the JSON alone.
      const toStderr = (text: string) => process.stderr.write(text);
      writeViews(args, trace, plan, result, args.json ? toStderr : undefined);
    }
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
          `reproduce: npx faultline run ${scenario.name} --seed ${seed}${variantFlag}${setFlags(pins)}\n`,
        );
      }
    }
    return result.outcome === 'pass' ? EXIT_OK : EXIT_VIOLATION;
  },
};

/** The `--set` flags that reproduce these pins ('' when there are none). */
export function setFlags(pins: Readonly<Record<string, number>>): string {
  const items = Object.entries(pins).map(([name, value]) => `${name}=${value}`);
  return items.length === 0 ? '' : ` --set ${items.join(' ')}`;
}
