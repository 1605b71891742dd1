#!/usr/bin/env -S node --single-threaded-gc
// Loads the TypeScript CLI through tsx, so `npx faultline` works straight after `npm ci`.
//
// --single-threaded-gc: the simulator is single-threaded by design, and V8's concurrent GC
// threads competed with fuzz workers for the same cores (measured on 2 cores: one worker
// 555 → 638 seeds/s, two workers 932 → 1,123 seeds/s, i.e. 1.68× → 1.76× one worker).
import { register } from 'tsx/esm/api';

register();
let main;
try {
  ({ main } = await import('../cli/main.ts'));
} catch (error) {
  // The built-in scenarios register as the CLI loads: a scenario that cannot register (a name
  // used twice, an unknown fault kind) is its author's to fix: one sentence and exit 2.
  if (error?.name !== 'ScenarioError') {
    throw error;
  }
  process.stderr.write(`faultline: ${error.message}\n`);
  process.exit(2);
}
process.exitCode = await main(process.argv.slice(2));
