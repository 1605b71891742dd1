#!/usr/bin/env -S node --single-threaded-gc
// Loads the TypeScript CLI through tsx, so `npx faultline` works straight after `npm ci`.
//
// --single-threaded-gc: the simulator is single-threaded by design, and V8's concurrent GC
// threads competed with fuzz workers for the same cores (measured on 2 cores: one worker
// 555 → 638 seeds/s, two workers 932 → 1,123 seeds/s, i.e. 1.68× → 1.76× one worker).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
