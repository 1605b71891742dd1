// Scenario files beyond the built-ins, found where users put them:
// - `--scenarios <glob…>` on the command line (relative to the working directory), else
// - `faultline.config.ts` (or .mts, .js, .mjs) in the working directory or the nearest
//   parent up to the project's root (the first directory with a package.json), whose
//   default export names them: `export default defineConfig({ scenarios: ['faultline/*.ts'] })`,
//   globs relative to the config file;
// - and FAULTLINE_SCENARIO_MODULES, for this repository's test fixtures (a scenario that
//   hangs on purpose must not show up in `faultline list` for users): paths separated by the
//   platform's path delimiter.
// Each is imported once, in this process and (bundled) in every fuzz worker. A module that
// cannot load, or registers a bad scenario, is bad input: one sentence, exit 2.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { globSync } from 'tinyglobby';

import type { FaultlineConfig } from '../api/config.ts';
import { allScenarios, ScenarioError, setScenarioSource } from '../sim/scenario.ts';
import { UsageError } from './errors.ts';

const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const SCENARIO_MODULES_ENV = 'FAULTLINE_SCENARIO_MODULES';
export const CONFIG_NAMES = [
  'faultline.config.ts',
  'faultline.config.mts',
  'faultline.config.js',
  'faultline.config.mjs',
];
/** More files than any project's scenarios: a glob this wide is a mistake (`**`). */
const MODULES_MAX = 1_000;
/** Directories searched upward for a config, at most (a root without package.json). */
const PARENTS_MAX = 64;

let loaded: string[] = [];

/** The file URLs `loadScenarioModules` imported, for fuzz workers. */
export function loadedScenarioModules(): string[] {
  return loaded;
}

/**
 * Imports the scenario modules named by `--scenarios` (or the config) and the environment;
 * returns their file URLs. Loading twice imports nothing new.
 */
export async function loadScenarioModules(globs?: readonly string[]): Promise<string[]> {
  const cwd = process.cwd();
  const fromEnv = (process.env[SCENARIO_MODULES_ENV] ?? '')
    .split(delimiter)
    .filter((path) => path.length > 0)
    .map((path) => resolve(path));
  const found =
    globs !== undefined && globs.length > 0
      ? matchGlobs(globs, cwd, `--scenarios ${globs.join(' ')}`)
      : await configModules(cwd);
  const paths = [...new Set([...found, ...fromEnv])];
  const urls: string[] = [];
  const imported: string[] = [];
  const before = allScenarios().length;
  for (const path of paths) {
    const url = pathToFileURL(path).href;
    if (!loaded.includes(url)) {
      await importModule(path, url, relative(cwd, path) || path);
      imported.push(path);
    }
    urls.push(url);
  }
  loaded = [...new Set([...loaded, ...urls])];
  if (allScenarios().length === before) {
    warnIfRegisteredElsewhere(imported, cwd);
  }
  return urls;
}

/**
 * Modules that call registerScenario, yet none of them added a scenario here: they reached
 * another registry, that is another copy of faultline (a global install running a project's
 * scenarios, say), whose scenarios this CLI never sees. (Judged over all the modules, since
 * one may import another that registers.)
 */
function warnIfRegisteredElsewhere(paths: readonly string[], cwd: string): void {
  const caller = paths.find((path) => /\bregisterScenario\s*\(/.test(readFileSync(path, 'utf8')));
  if (caller !== undefined) {
    process.stderr.write(
      `faultline: warning: ${relative(cwd, caller) || caller} calls registerScenario but registered nothing here; does it import another copy of faultline than this one (${PACKAGE_ROOT})?\n`,
    );
  }
}

async function importModule(path: string, url: string, label: string): Promise<void> {
  if (!existsSync(path)) {
    throw new UsageError(`scenario module ${label} does not exist`);
  }
  setScenarioSource(label);
  try {
    await import(url);
  } catch (error) {
    if (error instanceof ScenarioError) {
      // "registered twice" names its files already; other refusals get the file in front.
      throw new UsageError(
        error.message.includes(label) ? error.message : `${label}: ${error.message}`,
      );
    }
    const text = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UsageError(`scenario module ${label} failed to load: ${text}`);
  } finally {
    setScenarioSource(undefined);
  }
}

function matchGlobs(globs: readonly string[], cwd: string, what: string): string[] {
  const paths = globSync([...globs], {
    cwd,
    absolute: true,
    onlyFiles: true,
    ignore: ['**/node_modules/**'],
    expandDirectories: false,
  }).sort();
  if (paths.length === 0) {
    throw new UsageError(`${what} matches no files (globs are relative to ${cwd})`);
  }
  if (paths.length > MODULES_MAX) {
    throw new UsageError(`${what} matches ${paths.length} files; at most ${MODULES_MAX}`);
  }
  return paths;
}

/** The modules the nearest config names, or none when there is no config. */
async function configModules(cwd: string): Promise<string[]> {
  const path = findConfig(cwd);
  if (path === undefined) {
    return [];
  }
  const label = relative(cwd, path) || path;
  let exported: unknown;
  try {
    exported = ((await import(pathToFileURL(path).href)) as { default?: unknown }).default;
  } catch (error) {
    const text = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UsageError(`${label} failed to load: ${text}`);
  }
  const scenarios = (exported as Partial<FaultlineConfig> | undefined)?.scenarios;
  const globs = typeof scenarios === 'string' ? [scenarios] : scenarios;
  if (
    typeof exported !== 'object' ||
    exported === null ||
    !Array.isArray(globs) ||
    globs.length === 0 ||
    globs.some((glob) => typeof glob !== 'string')
  ) {
    throw new UsageError(
      `${label} should export default { scenarios: ['globs of scenario files', …] }`,
    );
  }
  const unknown = Object.keys(exported).find((key) => key !== 'scenarios');
  if (unknown !== undefined) {
    throw new UsageError(`${label} has an unknown setting ${JSON.stringify(unknown)}`);
  }
  return matchGlobs(globs, dirname(path), `${label}'s scenarios`);
}

function findConfig(cwd: string): string | undefined {
  let dir = cwd;
  for (let depth = 0; depth < PARENTS_MAX; depth++) {
    for (const name of CONFIG_NAMES) {
      const path = join(dir, name);
      if (existsSync(path)) {
        return path;
      }
    }
    const parent = dirname(dir);
    if (existsSync(join(dir, 'package.json')) || parent === dir) {
      return undefined;
    }
    dir = parent;
  }
  return undefined;
}
