// Worker threads on Node 20 do not apply `--import tsx` hooks to their entry module, so the
// worker starts here, registers tsx, and then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
