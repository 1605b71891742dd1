// Replay files named on the command line: a damaged or foreign file is bad input (exit 2).
import { type ReplayFile, ReplayFileError, readReplay } from '../sim/replay-file.ts';
import { checkTopology, checkVariant, scenarioNamed, UnknownScenarioError } from '../sim/run.ts';
import { findScenario } from '../sim/scenario.ts';
import { UsageError } from './errors.ts';

export function replayArgument(path: unknown): ReplayFile {
  if (typeof path !== 'string' || path.length === 0) {
    throw new UsageError('name a replay file (a .msgpack written by fuzz, shrink or fuzzTest)');
  }
  let name: string | undefined;
  try {
    const file = readReplay(path);
    name = file.scenario;
    const scenario = scenarioNamed(file.scenario);
    checkVariant(scenario, file.variant);
    checkTopology(scenario, file.plan);
    return file;
  } catch (error) {
    if (error instanceof ReplayFileError) {
      throw new UsageError(error.message);
    }
    if (error instanceof UnknownScenarioError) {
      // A scenario of a user's project is known only where its config (or --scenarios) is.
      const hint =
        name !== undefined && findScenario(name) === undefined
          ? ' (a scenario of your own project loads from its faultline.config.ts or --scenarios: replay from that project)'
          : '';
      throw new UsageError(`${path} cannot be replayed here: ${error.message}${hint}`);
    }
    throw error;
  }
}
