// Goal: recovery tells a damaged synced last batch from a torn one. A single-voter Raft group
// on the kernel's Disk commits proposals (each acknowledged only once its batch and that
// batch's sync mark are synced); then its last batch is damaged in place — bit rot, a torn
// write, or rot of a batch that was synced but not yet marked — and the group restarts on
// the same disk. Rot of a marked batch must make it refuse (never cut what may have been
// acknowledged); a torn or unmarked batch must still be cut, losing nothing acknowledged.
import { describe, expect, it } from 'vitest';

import { Disk } from '../../sim/disk.ts';
import { Random } from '../../sim/random.ts';
import type { NodeContext, Observation } from '../../sim/types.ts';
import {
  decodeLog,
  decodeSyncMarks,
  encodeSyncMark,
  marksNeedRepair,
  type SyncMarkSlot,
  type SyncMarks,
  tailVerdict,
} from './codec.ts';
import { type ClientReply, LOG_FILE, RaftGroup, SYNC_MARKS_FILE } from './group.ts';
import { CommandLog } from './log-machine.ts';

const CLIENT = 7;
const encoder = new TextEncoder();
const STEPS_MAX = 10_000;

/** One node's world: its disk, its timers and fsyncs in time order, what it observed. */
class World {
  readonly disk: Disk;
  readonly observations: Observation[] = [];
  readonly acks: string[] = [];
  private timers: { atUs: number; tag: string }[] = [];
  private syncs: number[] = [];
  private nowUs = 0;
  group!: RaftGroup;
  machine!: CommandLog;

  constructor(
    diskSeed = 11,
    private readonly syncMarks = true,
  ) {
    this.disk = new Disk(Random.fromSeed(diskSeed).fork('disk'));
    this.disk.scheduler = { scheduleSync: (syncId) => this.syncs.push(syncId) };
  }

  /** A fresh process on the same disk (what a restart is). */
  boot(): void {
    this.timers = [];
    this.syncs = [];
    this.machine = new CommandLog();
    const random = Random.fromSeed(5).fork(`node:${this.observations.length}`);
    const ctx = {
      id: 0,
      name: 'n1',
      group: 'servers',
      members: () => [0],
      servers: [0],
      clients: [CLIENT],
      workload: {},
      variant: null,
      now: () => this.nowUs,
      monotonic: () => this.nowUs,
      phase: () => 'faults',
      send: () => {},
      setTimer: (delayUs: number, tag: string) => {
        this.timers.push({ atUs: this.nowUs + delayUs, tag });
        return this.timers.length;
      },
      cancelTimer: () => {},
      random,
      disk: this.disk,
      log: () => {},
      observe: (observation: Observation) => this.observations.push(observation),
      buggify: () => false,
    } as unknown as NodeContext;
    this.group = new RaftGroup(ctx, {
      id: 'servers',
      peers: [0],
      filePrefix: '',
      stateMachine: this.machine,
      options: { syncMarks: this.syncMarks },
      onReply: (_client, reply: ClientReply) => {
        if (reply.type === 'propose-ok') {
          this.acks.push(reply.id);
        }
      },
    });
    this.group.start();
  }

  /** Completes the pending fsync, if any (fsyncs complete one at a time, in order). */
  completeOneSync(): boolean {
    const syncId = this.syncs.shift();
    if (syncId === undefined) {
      return false;
    }
    const ok = this.disk.completeSync(syncId);
    this.group.onSynced(syncId, ok);
    return true;
  }

  /** Runs syncs and timers until `done`, or fails. */
  runUntil(done: () => boolean): void {
    for (let step = 0; step < STEPS_MAX && !done(); step++) {
      if (this.completeOneSync()) {
        continue;
      }
      this.timers.sort((a, b) => a.atUs - b.atUs);
      const timer = this.timers.shift();
      expect(timer, 'the group has nothing left to do').toBeDefined();
      this.nowUs = Math.max(this.nowUs, (timer as { atUs: number }).atUs);
      this.group.onTimer((timer as { tag: string }).tag);
    }
    expect(done()).toBe(true);
  }

  propose(id: string): void {
    this.group.onMessage(CLIENT, { type: 'propose', id, data: encoder.encode(id) });
  }

  /** Proposes and waits until the proposal is acknowledged and nothing is left to persist. */
  commit(id: string): void {
    this.propose(id);
    this.runUntil(() => this.acks.includes(id));
    while (this.completeOneSync()) {
      // the commit index's own batch, if one follows
    }
  }

  /** Power loss with nothing unsynced landing; in-flight fsyncs never complete. */
  crash(): void {
    this.disk.crash(false);
    this.syncs = [];
  }

  /** The byte range of the log's last complete batch. */
  lastBatchRange(): { start: number; end: number } {
    const bytes = this.disk.read(LOG_FILE);
    const decoded = decodeLog(bytes);
    expect(decoded.status).toEqual({ kind: 'ok' });
    const start = decodeLog(bytes.subarray(0, bytes.length - 1)).validBytes;
    return { start, end: bytes.length };
  }

  refusal(): Observation | undefined {
    return this.observations.find((observation) => observation.type === 'corruption-detected');
  }
}

function started(diskSeed = 11, syncMarks = true): World {
  const world = new World(diskSeed, syncMarks);
  world.boot();
  world.runUntil(() => world.group.inspect()?.role === 'leader');
  world.commit('a');
  world.commit('b');
  return world;
}

describe('recovery of a damaged last batch (sync marks)', () => {
  it('refuses to start when the last batch was synced and marked, then rotted', () => {
    const { start, end } = started().lastBatchRange();
    expect(end - start).toBeGreaterThan(8);
    // Every byte of the last batch in turn, each on a fresh copy of the run.
    for (let offset = start; offset < end; offset++) {
      const world = started();
      world.disk.rotByte(LOG_FILE, offset);
      world.crash();
      world.boot();
      expect(world.group.running, `rot at byte ${offset}`).toBe(false);
      expect(world.refusal()?.['reason']).toMatch(/its fsync completed/);
      expect(world.disk.mediaFaults()).toBe(1);
    }
  });

  it('still cuts a torn last batch, and keeps everything acknowledged', () => {
    const world = started();
    const before = world.disk.size(LOG_FILE);
    world.propose('torn');
    const batch = world.disk.read(LOG_FILE).slice(before); // still only in the cache
    expect(batch.length).toBeGreaterThan(8);
    world.crash(); // its fsync never completed
    // Part of the batch reached the platter before power went: a torn write.
    for (const landedBytes of [1, Math.floor(batch.length / 2), batch.length - 1]) {
      const torn = started();
      torn.propose('torn');
      torn.crash();
      torn.disk.write(LOG_FILE, before, batch.subarray(0, landedBytes));
      torn.disk.fsync(LOG_FILE);
      torn.completeOneSync();
      torn.boot();
      expect(torn.refusal(), `${landedBytes} bytes landed`).toBeUndefined();
      expect(torn.observations.some((o) => o.type === 'torn-tail-recovered')).toBe(true);
      expect(torn.disk.mediaFaults()).toBe(0);
      torn.runUntil(() => torn.machine.commands.includes('b'));
      expect(torn.machine.commands).toEqual(['a', 'b']);
      torn.runUntil(() => torn.group.inspect()?.role === 'leader');
      torn.commit('after');
      expect(torn.machine.commands).toEqual(['a', 'b', 'after']);
    }
  });

  it('cuts a synced batch that rotted before its mark was synced: it was never handed out', () => {
    const world = started();
    const before = world.disk.size(LOG_FILE);
    world.propose('unmarked');
    const acked = world.acks.length;
    world.completeOneSync(); // the batch's fsync; its mark's fsync has not completed
    expect(world.acks.length).toBe(acked); // nothing is handed out before its mark is synced
    world.crash();
    expect(world.disk.size(LOG_FILE)).toBeGreaterThan(before + 8);
    world.disk.rotByte(LOG_FILE, world.disk.size(LOG_FILE) - 2);
    world.boot();
    expect(world.refusal()).toBeUndefined();
    expect(world.observations.some((o) => o.type === 'torn-tail-recovered')).toBe(true);
    world.runUntil(() => world.machine.commands.includes('b'));
    expect(world.machine.commands).toEqual(['a', 'b']);
  });
});

describe('recovery of a torn tail, crashed again', () => {
  // Two torn crashes in a row, recovery in between: nothing acknowledged is lost and the
  // node never refuses. Recovery copies the valid prefix to a fresh file rather than cut the
  // log in place (on this disk a truncated sector keeps its old bytes, which a torn write
  // past the cut could show again). That exact alignment is hard to build by hand: the
  // regression replay outbox-cdc-raft-torn-tail-cut-twice-seed34508 is the run that failed
  // before; this property guards the copy's own path.
  it.each([
    ['with sync marks', true],
    ['without', false],
  ])('never refuses, and keeps every acknowledged command (%s)', (_, syncMarks) => {
    let tornTwice = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const world = started(seed, syncMarks);
      // A long batch, torn by a crash: its first records land, its last does not.
      world.propose(`long-${'x'.repeat(900)}`);
      world.disk.crash(true);
      world.boot();
      expect(world.refusal(), `seed ${seed}, first restart`).toBeUndefined();
      world.runUntil(() => world.group.inspect()?.role === 'leader');
      // A short batch after the cut, torn by a second crash.
      world.propose('short');
      world.disk.crash(true);
      world.boot();
      expect(world.refusal(), `seed ${seed}, second restart`).toBeUndefined();
      world.runUntil(() => world.machine.commands.includes('b'));
      expect(world.machine.commands.slice(0, 2)).toEqual(['a', 'b']);
      tornTwice += world.observations.filter((o) => o.type === 'torn-tail-recovered').length;
    }
    // The crashes did tear: the property is about those runs.
    expect(tornTwice).toBeGreaterThan(30);
  });
});

describe('sync marks', () => {
  it('keep the newest mark through a torn or rotted write of the other slot', () => {
    const marks = new Uint8Array(1024);
    const put = (slot: number, batch: number) => {
      const { offsetBytes, bytes } = encodeSyncMark(slot, batch);
      marks.set(bytes, offsetBytes);
    };
    expect(decodeSyncMarks(new Uint8Array(0))).toMatchObject({ syncedThrough: null, nextSlot: 0 });
    put(0, 4);
    put(1, 5);
    expect(decodeSyncMarks(marks)).toMatchObject({ syncedThrough: 5, nextSlot: 0 });
    marks[3] = (marks[3] as number) ^ 0x10; // slot 0 torn or rotted
    expect(decodeSyncMarks(marks)).toMatchObject({ syncedThrough: 5, nextSlot: 0 });
    expect(decodeSyncMarks(marks).slots[0]).toEqual({ kind: 'bad' });
    // A mark misdirected into the other slot's sector names its own slot: not taken.
    const misdirected = encodeSyncMark(0, 9);
    marks.set(misdirected.bytes, 512);
    expect(decodeSyncMarks(marks).syncedThrough).toBeNull();
  });

  it('refuse a damaged batch a mark covers, or one next to a bad slot; cut one above them', () => {
    const marks = (...slots: SyncMarkSlot[]): SyncMarks => {
      const valid = slots.flatMap((slot) => (slot.kind === 'valid' ? [slot.batch] : []));
      return {
        slots,
        syncedThrough: valid.length === 0 ? null : Math.max(...valid),
        nextSlot: 0,
      };
    };
    const absent = { kind: 'absent' } as const;
    const bad = { kind: 'bad' } as const;
    const valid = (batch: number) => ({ kind: 'valid', batch }) as const;
    expect(tailVerdict(3, marks(absent, absent))).toBe('truncate');
    expect(tailVerdict(3, marks(valid(2), valid(1)))).toBe('truncate');
    expect(tailVerdict(3, marks(valid(2), valid(3)))).toBe('refuse');
    expect(tailVerdict(0, marks(valid(7), absent))).toBe('refuse');
    expect(tailVerdict(3, marks(valid(2), bad))).toBe('refuse');
    expect(tailVerdict(0, marks(bad, absent))).toBe('refuse');
    expect(marksNeedRepair(marks(valid(2), valid(3)), 3)).toBe(false);
    expect(marksNeedRepair(marks(valid(2), valid(3)), 4)).toBe(true);
    expect(marksNeedRepair(marks(valid(3), bad), 3)).toBe(true);
    expect(marksNeedRepair(marks(absent, absent), -1)).toBe(false);
  });

  it('refuse a rotted last batch whose mark rotted too (two media faults on one disk)', () => {
    const world = started();
    const { start } = world.lastBatchRange();
    const newest = decodeSyncMarks(world.disk.read(SYNC_MARKS_FILE)).nextSlot === 0 ? 1 : 0;
    world.disk.rotByte(SYNC_MARKS_FILE, newest * 512 + 9);
    world.disk.rotByte(LOG_FILE, start + 3);
    world.crash();
    world.boot();
    expect(world.group.running).toBe(false);
    expect(world.refusal()?.['reason']).toMatch(/a sync mark is damaged/);
  });

  it('mark what recovery found unmarked before acting on it', () => {
    const world = started();
    world.propose('unmarked');
    world.completeOneSync(); // the batch is synced; its mark never will be
    world.crash();
    world.boot(); // the batch is whole: recovered, and marked before anything is handed out
    const lastBatch = decodeLog(world.disk.read(LOG_FILE)).nextBatch - 1;
    expect(decodeSyncMarks(world.disk.read(SYNC_MARKS_FILE)).syncedThrough).toBe(lastBatch - 1);
    world.completeOneSync(); // the log's fsync
    world.completeOneSync(); // the mark's
    expect(decodeSyncMarks(world.disk.read(SYNC_MARKS_FILE)).syncedThrough).toBe(lastBatch);
    // Now a rot of that batch is refused: the node may have acted on it.
    world.disk.rotByte(LOG_FILE, world.disk.size(LOG_FILE) - 2);
    world.crash();
    world.boot();
    expect(world.group.running).toBe(false);
  });

  it('are written to raft.synced, and the log stays decodable', () => {
    const world = started();
    const marks = decodeSyncMarks(world.disk.read(SYNC_MARKS_FILE));
    const decoded = decodeLog(world.disk.read(LOG_FILE));
    expect(decoded.status).toEqual({ kind: 'ok' });
    expect(marks.syncedThrough).toBe(decoded.nextBatch - 1);
  });
});
