#!/usr/bin/env node
// Loads the TypeScript CLI through tsx, so `npx faultline` works straight after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
