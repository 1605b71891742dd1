// A replica group's replicated state machine: the shards its configuration gives it, each
// with its own data and duplicate table, and the migration state of every shard. Everything
// that changes it — client writes, the next configuration, a shard's data arriving from its
// previous owner, the deletion of a shard handed off, the confirmation that the previous
// owner deleted it — is a command through the group's Raft log, so every replica goes
// through the same states in the same order and a snapshot carries all of it.
//
// A shard's life in one group, per configuration number N:
//   absent      ─ N assigns it here, the previous owner was another group ─► pulling
//   absent      ─ N assigns it here, it was unassigned (group 0)          ─► serving (empty)
//   pulling     ─ install (data + duplicate table of N's previous owner)   ─► confirming
//   confirming  ─ the previous owner says it deleted its copy             ─► serving
//   serving     ─ N assigns it elsewhere                                  ─► handing-off
//   handing-off ─ the new owner installed it and asked us to delete it    ─► absent
// Serving and confirming shards are served; the next configuration is taken only once every
// shard is serving or absent, so configurations are applied one at a time, in order.
import { assert } from '../../sim/assert.ts';
import {
  appliedBefore,
  applyWrite,
  isKvCommand,
  type KvCommand,
  recordApplied,
} from '../kv/index.ts';
import type { StateMachine } from '../raft/group.ts';
import type { Entry } from '../raft/types.ts';
import { INITIAL_CONFIG, keyToShard, NO_GROUP, NSHARDS, type ShardConfig } from './config.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type ShardStatus = 'absent' | 'pulling' | 'confirming' | 'serving' | 'handing-off';

export interface Shard {
  status: ShardStatus;
  readonly data: Map<string, string>;
  /** client → the highest sequence number applied to this shard. Moves with the shard. */
  readonly sessions: Map<number, number>;
}

export type GroupCommand =
  | ({ type: 'op' } & KvCommand)
  | { type: 'config'; config: ShardConfig }
  | {
      type: 'install';
      num: number;
      shard: number;
      data: [string, string][];
      sessions: [number, number][];
    }
  | { type: 'delete'; num: number; shard: number }
  | { type: 'confirmed'; num: number; shard: number };

export type OpResult = { status: 'ok' | 'duplicate' | 'wrong-group' };

export function encodeGroupCommand(command: GroupCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

export function decodeGroupCommand(data: Uint8Array): GroupCommand {
  const command = JSON.parse(decoder.decode(data)) as GroupCommand;
  assert(
    typeof command === 'object' &&
      command !== null &&
      ['op', 'config', 'install', 'delete', 'confirmed'].includes(command.type),
    'a replica group command has a known type',
  );
  if (command.type === 'op') {
    assert(isKvCommand(command), 'a client write is {op: put|append, key, value, client, seq}');
  } else if (command.type !== 'config') {
    assert(
      Number.isSafeInteger(command.num) && command.shard >= 0 && command.shard < NSHARDS,
      'a migration command names a configuration and a shard',
    );
  }
  return command;
}

/** What a replica reports as it applies (observations for the invariants). */
export interface GroupEvents {
  configApplied(from: number, to: number): void;
  served(shard: number, num: number): void;
  installed(shard: number, num: number, keys: number): void;
  deleted(shard: number, num: number): void;
  duplicate(client: number, seq: number): void;
}

const NO_EVENTS: GroupEvents = {
  configApplied: () => {},
  served: () => {},
  installed: () => {},
  deleted: () => {},
  duplicate: () => {},
};

/** Bugs the state machine can be built with (see types.ts). */
export interface GroupBugs {
  /** A shard is served from the moment the configuration assigns it, before its data arrives. */
  serveBeforeInstall: boolean;
  /** Installing a shard leaves its duplicate table behind. */
  dedupNotMigrated: boolean;
  /** Handed-off shards are never deleted (the new owner is told they were). */
  noGc: boolean;
  /** A handed-off shard is still served. */
  serveAfterHandoff: boolean;
  /** Any newer configuration is taken, not only the next one. */
  skipConfig: boolean;
}

export const NO_BUGS: GroupBugs = {
  serveBeforeInstall: false,
  dedupNotMigrated: false,
  noGc: false,
  serveAfterHandoff: false,
  skipConfig: false,
};

interface SnapshotBody {
  config: ShardConfig;
  previous: ShardConfig;
  shards: { status: ShardStatus; data: [string, string][]; sessions: [number, number][] }[];
}

function emptyShard(status: ShardStatus): Shard {
  return { status, data: new Map(), sessions: new Map() };
}

export class GroupStateMachine implements StateMachine {
  config: ShardConfig = INITIAL_CONFIG;
  /** The configuration before `config`: where pulled shards come from. */
  previous: ShardConfig = INITIAL_CONFIG;
  shards: Shard[] = Array.from({ length: NSHARDS }, () => emptyShard('absent'));
  events: GroupEvents = NO_EVENTS;

  constructor(
    readonly gid: number,
    private readonly bugs: GroupBugs = NO_BUGS,
  ) {
    assert(gid > 0, 'a replica group has a gid above 0');
  }

  shard(index: number): Shard {
    return this.shards[index] as Shard;
  }

  /** Whether this group answers for the shard now. */
  serves(index: number): boolean {
    const status = this.shard(index).status;
    return (
      status === 'serving' ||
      status === 'confirming' ||
      (this.bugs.serveBeforeInstall && status === 'pulling') ||
      (this.bugs.serveAfterHandoff && status === 'handing-off')
    );
  }

  /** Every shard is serving or absent: no migration under way, the next configuration may come. */
  get stable(): boolean {
    return this.shards.every((shard) => shard.status === 'serving' || shard.status === 'absent');
  }

  /** Shards in a status, ascending. */
  shardsIn(status: ShardStatus): number[] {
    const found: number[] = [];
    for (let index = 0; index < NSHARDS; index++) {
      if (this.shard(index).status === status) {
        found.push(index);
      }
    }
    return found;
  }

  get(key: string): string {
    return this.shard(keyToShard(key)).data.get(key) ?? '';
  }

  apply(entry: Entry): unknown {
    return this.applyCommand(decodeGroupCommand(entry.data));
  }

  applyCommand(command: GroupCommand): unknown {
    switch (command.type) {
      case 'op':
        return this.applyOp(command);
      case 'config':
        return this.applyConfig(command.config);
      case 'install':
        return this.applyInstall(command);
      case 'delete':
        return this.applyDelete(command.num, command.shard);
      case 'confirmed':
        return this.applyConfirmed(command.num, command.shard);
    }
  }

  private applyOp(command: GroupCommand & { type: 'op' }): OpResult {
    const index = keyToShard(command.key);
    if (!this.serves(index)) {
      return { status: 'wrong-group' };
    }
    const shard = this.shard(index);
    if (appliedBefore(shard.sessions, command.client, command.seq)) {
      this.events.duplicate(command.client, command.seq);
      return { status: 'duplicate' };
    }
    applyWrite(shard.data, command);
    recordApplied(shard.sessions, command.client, command.seq);
    this.events.served(index, this.config.num);
    return { status: 'ok' };
  }

  /** The next configuration, only from a stable state: one at a time, in order. */
  private applyConfig(next: ShardConfig): boolean {
    const inOrder = this.bugs.skipConfig
      ? next.num > this.config.num
      : next.num === this.config.num + 1;
    if (!inOrder || !this.stable) {
      return false;
    }
    for (let index = 0; index < NSHARDS; index++) {
      const was = this.config.shards[index] === this.gid;
      const now = next.shards[index] === this.gid;
      const shard = this.shard(index);
      if (was && !now) {
        shard.status = 'handing-off';
      } else if (!was && now) {
        const from = this.config.shards[index];
        shard.status = from === NO_GROUP ? 'serving' : 'pulling';
      }
    }
    this.events.configApplied(this.config.num, next.num);
    this.previous = this.config;
    this.config = next;
    return true;
  }

  private applyInstall(command: GroupCommand & { type: 'install' }): boolean {
    const shard = this.shard(command.shard);
    if (command.num !== this.config.num || shard.status !== 'pulling') {
      return false; // a duplicate, or for a configuration already past
    }
    shard.data.clear();
    for (const [key, value] of command.data) {
      shard.data.set(key, value);
    }
    shard.sessions.clear();
    if (!this.bugs.dedupNotMigrated) {
      for (const [client, seq] of command.sessions) {
        shard.sessions.set(client, seq);
      }
    }
    shard.status = 'confirming';
    this.events.installed(command.shard, command.num, command.data.length);
    return true;
  }

  private applyDelete(num: number, index: number): boolean {
    const shard = this.shard(index);
    if (num !== this.config.num || shard.status !== 'handing-off') {
      return false;
    }
    if (!this.bugs.noGc) {
      shard.data.clear();
      shard.sessions.clear();
    }
    shard.status = 'absent';
    this.events.deleted(index, num);
    return true;
  }

  private applyConfirmed(num: number, index: number): boolean {
    const shard = this.shard(index);
    if (num !== this.config.num || shard.status !== 'confirming') {
      return false;
    }
    shard.status = 'serving';
    return true;
  }

  /**
   * What the previous owner answers a pull for shard `index` of configuration `num` with:
   * its frozen copy once it has applied `num` (no write applies to a handed-off shard), or
   * 'gone' when it has moved past (the puller's request is stale), or 'not-yet'.
   */
  handOff(num: number, index: number): Shard | 'gone' | 'not-yet' {
    if (this.config.num < num) {
      return 'not-yet';
    }
    const shard = this.shard(index);
    return this.config.num === num && shard.status === 'handing-off' ? shard : 'gone';
  }

  /** Whether the copy of shard `index` handed off in configuration `num` is deleted here. */
  deletedSince(num: number, index: number): boolean {
    return (
      this.config.num > num ||
      (this.config.num === num && this.shard(index).status !== 'handing-off')
    );
  }

  snapshot(): Uint8Array {
    const body: SnapshotBody = {
      config: this.config,
      previous: this.previous,
      shards: this.shards.map((shard) => ({
        status: shard.status,
        data: [...shard.data.entries()],
        sessions: [...shard.sessions.entries()],
      })),
    };
    return encoder.encode(JSON.stringify(body));
  }

  restore(bytes: Uint8Array): void {
    const body = JSON.parse(decoder.decode(bytes)) as SnapshotBody;
    assert(body.shards.length === NSHARDS, `a replica group snapshot holds ${NSHARDS} shards`);
    this.config = body.config;
    this.previous = body.previous;
    this.shards = body.shards.map((saved) => {
      const shard = emptyShard(saved.status);
      for (const [key, value] of saved.data) {
        shard.data.set(key, value);
      }
      for (const [client, seq] of saved.sessions) {
        shard.sessions.set(client, seq);
      }
      return shard;
    });
  }

  /** Bytes of shard data held (keys and values), for the stored-state bound. */
  get dataBytes(): number {
    let bytes = 0;
    for (const shard of this.shards) {
      for (const [key, value] of shard.data) {
        bytes += key.length + value.length;
      }
    }
    return bytes;
  }
}
