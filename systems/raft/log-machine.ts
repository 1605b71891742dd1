// The state machine the Raft scenarios replicate: an append-only list of command ids, so
// every applied command can be checked against what clients proposed.

import type { StateMachine } from './group.ts';
import type { Entry } from './types.ts';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class CommandLog implements StateMachine {
  commands: string[] = [];

  apply(entry: Entry): number {
    this.commands.push(decoder.decode(entry.data));
    return this.commands.length;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.commands));
  }

  fresh(): CommandLog {
    return new CommandLog();
  }

  restore(data: Uint8Array): void {
    this.commands = JSON.parse(decoder.decode(data)) as string[];
  }
}
