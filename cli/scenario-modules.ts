// Extra scenario modules, for test fixtures that must not show up in `faultline list` for
// users (a scenario that hangs on purpose, say). FAULTLINE_SCENARIO_MODULES holds paths
// separated by the platform's path delimiter; fuzz workers import them too.
import { delimiter, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SCENARIO_MODULES_ENV = 'FAULTLINE_SCENARIO_MODULES';

/** Imports the extra modules named in the environment; returns their URLs for workers. */
export async function loadScenarioModules(): Promise<string[]> {
  const text = process.env[SCENARIO_MODULES_ENV] ?? '';
  const urls = text
    .split(delimiter)
    .filter((path) => path.length > 0)
    .map((path) => pathToFileURL(resolve(path)).href);
  for (const url of urls) {
    await import(url);
  }
  return urls;
}
