// Stryker loads plugins with a plain `import()`: this file lets it load the TypeScript runner
// through tsx, as bin/faultline.mjs does for the CLI.
import { register } from 'tsx/esm/api';

register();
const runner = await import('./fuzz-test-runner.ts');

export const strykerPlugins = runner.strykerPlugins;
export const strykerValidationSchema = runner.strykerValidationSchema;
