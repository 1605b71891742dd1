// A service's session table (MIT's duplicate detection), as the state machines on Raft keep
// it: client → the highest sequence number applied for it. A client sends seq n+1 only after
// n completed, so a command with seq ≤ that is a retry or a stale copy, and applying it again
// would apply it twice. The table is replicated state like the data it guards: it goes into
// the snapshot (KvStateMachine, shardkv's controller) or moves with its shard (shardkv's
// replica groups).

/** Whether `client`'s command `seq` was applied already: a retry or a stale copy. */
export function appliedBefore(
  sessions: ReadonlyMap<number, number>,
  client: number,
  seq: number,
): boolean {
  return seq <= (sessions.get(client) ?? 0);
}

/** Records `client`'s command `seq` as applied (never lowered: no-dedup re-applies old ones). */
export function recordApplied(sessions: Map<number, number>, client: number, seq: number): void {
  sessions.set(client, Math.max(sessions.get(client) ?? 0, seq));
}
