// Reading a file a system is about to trust (or cut) on recovery. A read can come back with
// a flipped bit, so read until two reads agree; a file that never reads the same twice is
// not one to recover from, and the process gives up (its supervisor restarts it).
import { type Disk, ProcessExit } from '../sim/disk.ts';

const READ_ATTEMPTS_MAX = 5;

export function readStable(disk: Disk, name: string): Uint8Array {
  let previous = disk.read(name);
  for (let attempt = 0; attempt < READ_ATTEMPTS_MAX; attempt++) {
    const current = disk.read(name);
    if (Buffer.compare(previous, current) === 0) {
      return current;
    }
    previous = current;
  }
  throw new ProcessExit(`${name} reads differently every time`);
}
