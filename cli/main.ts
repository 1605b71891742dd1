import yargs from 'yargs';

import { commands } from './commands/index.ts';
import { EXIT_USAGE, UsageError } from './errors.ts';
import { loadScenarioModules } from './scenario-modules.ts';

const SCENARIOS_OPTION = {
  type: 'string',
  array: true,
  describe:
    "scenario files to load besides the built-ins (globs; default: what faultline.config.ts's scenarios name)",
} as const;

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
        command.builder(command.scenarios ? argv.option('scenarios', SCENARIOS_OPTION) : argv),
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
