import { pathToFileURL } from 'node:url';

import yargs, { type Argv } from 'yargs';

import { commands } from './commands/index.ts';
import { EXIT_USAGE, UsageError } from './errors.ts';
import { loadScenarioModules } from './scenario-modules.ts';

const SCENARIOS_OPTION = {
  type: 'string',
  array: true,
  describe:
    "scenario files to load besides the built-ins (globs; default: what faultline.config.ts's scenarios name)",
} as const;

/**
 * yargs lays an example out as two columns, command and description, each about half the
 * width, so a long command wrapped mid-word and no longer pasted. Every command's examples
 * become one line instead, the description a shell comment: `faultline fuzz … # what it does`.
 */
function oneColumnExamples(argv: Argv): Argv {
  const example = argv.example.bind(argv);
  const oneColumn = (command: string | [string, string?][], description?: string) =>
    typeof command === 'string'
      ? example(description ? `${command}  # ${description}` : command, '')
      : example(command);
  argv.example = oneColumn as Argv['example'];
  return argv;
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('faultline')
    .usage('$0 <command> [options]\n\nDeterministic simulation testing for distributed systems.')
    .strict()
    .demandCommand(1, 'Name a command; `faultline --help` lists them.')
    .recommendCommands()
    .help()
    .alias('help', 'h')
    .version(false)
    // The terminal's width on a terminal, else no wrapping: examples wrapped at a fixed width
    // broke mid-command and mid-file-name, and a copied command must paste whole.
    .wrap(process.stdout.isTTY ? (process.stdout.columns ?? null) : null)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
  for (const command of commands) {
    parser.command({
      command: command.command,
      describe: command.describe,
      builder: (argv) =>
        command.builder(
          oneColumnExamples(command.scenarios ? argv.option('scenarios', SCENARIOS_OPTION) : argv),
        ),
      handler: async (args) => {
        if (command.scenarios) {
          // Before the command reads its arguments: a user's scenario name must resolve.
          const globs = args['scenarios'] as string[] | undefined;
          await loadScenarioModules(globs?.map(String));
        }
        exitCode = await command.run(args);
      },
    });
  }
  try {
    await parser.parseAsync();
    return exitCode;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`faultline: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

// Run directly (`npx tsx cli/main.ts fuzz …`) rather than through bin/faultline.mjs, it does
// the same instead of loading and silently exiting 0.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
