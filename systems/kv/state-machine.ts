// The replicated KV state machine: string keys to string values, plus the session table that
// makes client retries idempotent. The session table is state like any other: it is part of
// the snapshot, or a replica restored from a snapshot would re-apply a retried command.
import { assert } from '../../sim/assert.ts';
import type { StateMachine } from '../raft/group.ts';
import type { Entry } from '../raft/types.ts';
import { appliedBefore, recordApplied } from './sessions.ts';
import type { KvApplyResult, KvCommand } from './types.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(command: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

export function decodeCommand(data: Uint8Array): KvCommand {
  const command = JSON.parse(decoder.decode(data)) as KvCommand;
  assert(isKvCommand(command), 'a KV command must be {op: put|append, key, value, client, seq}');
  return command;
}

/** Whether a decoded command is a client write: {op: put|append, key, value, client, seq}. */
export function isKvCommand(command: KvCommand): boolean {
  return (
    (command.op === 'put' || command.op === 'append') &&
    typeof command.key === 'string' &&
    typeof command.value === 'string' &&
    Number.isSafeInteger(command.client) &&
    Number.isSafeInteger(command.seq)
  );
}

/** Applies a client write to `data`: Put replaces the value, Append extends it. */
export function applyWrite(data: Map<string, string>, command: KvCommand): void {
  const old = data.get(command.key) ?? '';
  data.set(command.key, command.op === 'put' ? command.value : old + command.value);
}

interface SnapshotBody {
  data: [string, string][];
  /** client → the highest sequence number applied. Absent in the dedup-not-in-snapshot bug. */
  sessions?: [number, number][];
}

export interface KvStateMachineOptions {
  /** no-dedup: apply every command even when its (client, seq) was applied already. */
  dedup: boolean;
  /** dedup-not-in-snapshot: leave the session table out of the snapshot. */
  sessionsInSnapshot: boolean;
}

export class KvStateMachine implements StateMachine {
  readonly data = new Map<string, string>();
  /** client → the highest sequence number applied for it. One outstanding op per client. */
  readonly sessions = new Map<number, number>();
  /** Called for every command the session table suppressed (for `sometimes` coverage). */
  onDuplicate: (command: KvCommand) => void = () => {};

  constructor(private readonly options: KvStateMachineOptions) {}

  get(key: string): string {
    return this.data.get(key) ?? '';
  }

  apply(entry: Entry): KvApplyResult {
    return this.applyCommand(decodeCommand(entry.data));
  }

  applyCommand(command: KvCommand): KvApplyResult {
    if (this.options.dedup && appliedBefore(this.sessions, command.client, command.seq)) {
      this.onDuplicate(command);
      return { duplicate: true };
    }
    applyWrite(this.data, command);
    recordApplied(this.sessions, command.client, command.seq);
    return { duplicate: false };
  }

  snapshot(): Uint8Array {
    const body: SnapshotBody = { data: [...this.data.entries()] };
    if (this.options.sessionsInSnapshot) {
      body.sessions = [...this.sessions.entries()];
    }
    return encoder.encode(JSON.stringify(body));
  }

  fresh(): KvStateMachine {
    return new KvStateMachine(this.options);
  }

  restore(bytes: Uint8Array): void {
    const body = JSON.parse(decoder.decode(bytes)) as SnapshotBody;
    this.data.clear();
    this.sessions.clear();
    for (const [key, value] of body.data) {
      this.data.set(key, value);
    }
    for (const [client, seq] of body.sessions ?? []) {
      this.sessions.set(client, seq);
    }
  }
}
