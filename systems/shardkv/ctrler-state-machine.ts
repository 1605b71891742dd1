// The shard controller's replicated state machine (MIT's shardctrler): the list of every
// configuration so far, each immutable once made, plus the session table that makes an
// administrator's retried Join, Leave or Move apply once. Query is not a command: servers
// answer it by ReadIndex from the applied state (see ctrler-server.ts).
import { assert } from '../../sim/assert.ts';
import { appliedBefore, recordApplied } from '../kv/index.ts';
import type { StateMachine } from '../raft/group.ts';
import type { Entry } from '../raft/types.ts';
import {
  type GroupServers,
  INITIAL_CONFIG,
  NSHARDS,
  rebalance,
  type ShardConfig,
} from './config.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Configurations a controller keeps (MIT keeps all; a run makes far fewer). */
export const CONFIGS_MAX = 100_000;

export type CtrlerOp =
  | { op: 'join'; groups: GroupServers[] }
  | { op: 'leave'; gids: number[] }
  | { op: 'move'; shard: number; gid: number };

/** An administrator's command; (client, seq) identifies it for duplicate detection. */
export type CtrlerCommand = CtrlerOp & { client: number; seq: number };

export interface CtrlerApplyResult {
  duplicate: boolean;
  /** The newest configuration's number after the command. */
  num: number;
}

export function encodeCtrlerCommand(command: CtrlerCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

function isGid(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

export function decodeCtrlerCommand(data: Uint8Array): CtrlerCommand {
  const command = JSON.parse(decoder.decode(data)) as CtrlerCommand;
  assert(
    Number.isSafeInteger(command.client) && Number.isSafeInteger(command.seq),
    'a controller command carries its client and seq',
  );
  switch (command.op) {
    case 'join':
      assert(
        Array.isArray(command.groups) &&
          command.groups.every(([gid, servers]) => isGid(gid) && Array.isArray(servers)),
        'a Join names groups as [gid, servers] pairs',
      );
      break;
    case 'leave':
      assert(Array.isArray(command.gids) && command.gids.every(isGid), 'a Leave names gids');
      break;
    case 'move':
      assert(
        Number.isSafeInteger(command.shard) &&
          command.shard >= 0 &&
          command.shard < NSHARDS &&
          isGid(command.gid),
        'a Move names a shard and a gid',
      );
      break;
    default:
      assert(false, `unknown controller command ${String((command as { op?: unknown }).op)}`);
  }
  return command;
}

/** The configuration a command makes from the newest one (pure: what every replica computes). */
export function nextConfig(
  latest: ShardConfig,
  op: CtrlerOp,
  assign: (shards: readonly number[], gids: readonly number[]) => number[] = rebalance,
): ShardConfig {
  const num = latest.num + 1;
  if (op.op === 'move') {
    const shards = [...latest.shards];
    shards[op.shard] = op.gid;
    return { num, shards, groups: latest.groups };
  }
  const groups = new Map<number, readonly number[]>(latest.groups);
  if (op.op === 'join') {
    for (const [gid, servers] of op.groups) {
      groups.set(gid, [...servers]);
    }
  } else {
    for (const gid of op.gids) {
      groups.delete(gid);
    }
  }
  const sorted = [...groups.entries()].sort(([a], [b]) => a - b);
  const gids = sorted.map(([gid]) => gid);
  return { num, shards: assign(latest.shards, gids), groups: sorted };
}

interface SnapshotBody {
  configs: ShardConfig[];
  sessions: [number, number][];
}

/**
 * The rebalance-from-scratch bug: deal the shards out round-robin over the groups on every
 * change. Balanced and deterministic, but a Join moves shards between groups that stay.
 */
export function rebalanceFromScratch(shards: readonly number[], gids: readonly number[]): number[] {
  return shards.map((_, shard) => (gids.length === 0 ? 0 : (gids[shard % gids.length] as number)));
}

export class CtrlerStateMachine implements StateMachine {
  private configs: ShardConfig[] = [INITIAL_CONFIG];
  /** client → the highest sequence number applied for it. One outstanding op per client. */
  readonly sessions = new Map<number, number>();
  /** Called with every configuration this replica makes, and the one it came from. */
  onConfig: (made: ShardConfig, previous: ShardConfig, op: CtrlerOp) => void = () => {};
  onDuplicate: (command: CtrlerCommand) => void = () => {};

  constructor(
    private readonly assign: (
      shards: readonly number[],
      gids: readonly number[],
    ) => number[] = rebalance,
  ) {}

  get latest(): ShardConfig {
    return this.configs[this.configs.length - 1] as ShardConfig;
  }

  get count(): number {
    return this.configs.length;
  }

  /** MIT's Query(num): -1, or a number past the newest, means the newest. */
  query(num: number): ShardConfig {
    return num < 0 || num >= this.configs.length ? this.latest : (this.configs[num] as ShardConfig);
  }

  apply(entry: Entry): CtrlerApplyResult {
    return this.applyCommand(decodeCtrlerCommand(entry.data));
  }

  applyCommand(command: CtrlerCommand): CtrlerApplyResult {
    if (appliedBefore(this.sessions, command.client, command.seq)) {
      this.onDuplicate(command);
      return { duplicate: true, num: this.latest.num };
    }
    recordApplied(this.sessions, command.client, command.seq);
    assert(this.configs.length < CONFIGS_MAX, 'the controller made too many configurations');
    const previous = this.latest;
    const made = nextConfig(previous, command, this.assign);
    this.configs.push(made);
    this.onConfig(made, previous, command);
    return { duplicate: false, num: made.num };
  }

  snapshot(): Uint8Array {
    const body: SnapshotBody = { configs: this.configs, sessions: [...this.sessions.entries()] };
    return encoder.encode(JSON.stringify(body));
  }

  restore(bytes: Uint8Array): void {
    const body = JSON.parse(decoder.decode(bytes)) as SnapshotBody;
    assert(
      body.configs.length > 0 && body.configs.every((config, num) => config.num === num),
      'a controller snapshot holds configurations 0, 1, 2, … in order',
    );
    this.configs = body.configs;
    this.sessions.clear();
    for (const [client, seq] of body.sessions) {
      this.sessions.set(client, seq);
    }
  }
}
