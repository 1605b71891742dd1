// The KV state machine: duplicate detection by (client, seq), and the session table riding
// in the snapshot — or, in the dedup-not-in-snapshot variant, not.
import { describe, expect, it } from 'vitest';

import type { Entry } from '../raft/types.ts';
import { decodeCommand, encodeCommand, KvStateMachine } from './state-machine.ts';
import type { KvCommand } from './types.ts';

function entry(index: number, command: KvCommand): Entry {
  return { index, term: 1, kind: 'command', data: encodeCommand(command) };
}

const append = (client: number, seq: number, value: string): KvCommand => ({
  op: 'append',
  key: 'k',
  value,
  client,
  seq,
});

describe('KvStateMachine', () => {
  it('applies put and append, and reads absent keys as empty', () => {
    const kv = new KvStateMachine({ dedup: true, sessionsInSnapshot: true });
    expect(kv.get('k')).toBe('');
    kv.apply(entry(1, { op: 'put', key: 'k', value: 'a', client: 1, seq: 1 }));
    kv.apply(entry(2, append(1, 2, 'b')));
    expect(kv.get('k')).toBe('ab');
  });

  it('suppresses a retried command and a stale copy of an older one', () => {
    const kv = new KvStateMachine({ dedup: true, sessionsInSnapshot: true });
    const duplicates: number[] = [];
    kv.onDuplicate = (command) => duplicates.push(command.seq);
    expect(kv.apply(entry(1, append(1, 1, 'a')))).toEqual({ duplicate: false });
    expect(kv.apply(entry(2, append(1, 1, 'a')))).toEqual({ duplicate: true });
    kv.apply(entry(3, append(1, 2, 'b')));
    kv.apply(entry(4, append(1, 1, 'a')));
    kv.apply(entry(5, append(2, 1, 'c'))); // another client's seq 1 is new
    expect(kv.get('k')).toBe('abc');
    expect(duplicates).toEqual([1, 1]);
  });

  it('carries the session table through a snapshot, so a restored replica still deduplicates', () => {
    const kv = new KvStateMachine({ dedup: true, sessionsInSnapshot: true });
    kv.apply(entry(1, append(1, 1, 'a')));
    const restored = new KvStateMachine({ dedup: true, sessionsInSnapshot: true });
    restored.restore(kv.snapshot());
    restored.apply(entry(2, append(1, 1, 'a')));
    expect(restored.get('k')).toBe('a');
    expect(restored.sessions.get(1)).toBe(1);
  });

  it('no-dedup applies a retry twice; dedup-not-in-snapshot forgets sessions on restore', () => {
    const noDedup = new KvStateMachine({ dedup: false, sessionsInSnapshot: true });
    noDedup.apply(entry(1, append(1, 1, 'a')));
    noDedup.apply(entry(2, append(1, 1, 'a')));
    expect(noDedup.get('k')).toBe('aa');

    const forgetful = new KvStateMachine({ dedup: true, sessionsInSnapshot: false });
    forgetful.apply(entry(1, append(1, 1, 'a')));
    const restored = new KvStateMachine({ dedup: true, sessionsInSnapshot: false });
    restored.restore(forgetful.snapshot());
    restored.apply(entry(2, append(1, 1, 'a')));
    expect(restored.get('k')).toBe('aa');
  });

  it('rejects a malformed command', () => {
    expect(() => decodeCommand(new TextEncoder().encode('{"op":"delete"}'))).toThrow(/KV command/);
  });
});
