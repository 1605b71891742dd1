// Generated long register histories for the long-history benchmark: `clients` processes run
// back to back against one linearizable register (read 50 %, write 30 %, cas 20 %, values 0–9,
// initially 0); each operation takes effect at one instant inside its interval. As in Jepsen,
// a failed CAS is left out (it did not happen), and 0.5 % of operations crash (`:info`: taken
// effect or not, at random) and their process is replaced by a new one. A failing history has
// one read 90 % of the way in return a value nobody wrote, so a checker must rule out every
// linearization of the 90 % before it.
import { Random } from '../sim/random.ts';

export interface LongOp {
  client: number;
  f: 'read' | 'write' | 'cas';
  /** write: the value; cas: from. */
  a: number;
  /** cas: to. */
  b: number;
  /** read: the value read. */
  out: number;
  unknown: boolean;
  call: number;
  ret: number;
}

const NEVER_WRITTEN = 10;

interface Planned extends LongOp {
  at: number;
  applied: boolean;
}

export function generateLongHistory(
  operations: number,
  clients: number,
  seed: number,
  failing: boolean,
): LongOp[] {
  const random = Random.fromSeed(`long-history/${operations}/${clients}/${seed}`);
  const planned: Planned[] = [];
  const nextCall = Array.from({ length: clients }, () => random.int(50));
  const processOf = Array.from({ length: clients }, (_, i) => i);
  let nextProcess = clients;
  for (let i = 0; i < operations; i++) {
    const thread = i % clients;
    const call = nextCall[thread]!;
    const at = call + 1 + random.int(100);
    const ret = at + 1 + random.int(100);
    const roll = random.next();
    const f = roll < 0.5 ? 'read' : roll < 0.8 ? 'write' : 'cas';
    const crashed = random.chance(0.005);
    planned.push({
      client: processOf[thread]!,
      f,
      a: random.int(10),
      b: random.int(10),
      out: 0,
      unknown: crashed,
      call,
      ret: crashed ? Number.POSITIVE_INFINITY : ret,
      at,
      applied: !crashed || random.chance(0.5),
    });
    if (crashed) {
      processOf[thread] = nextProcess++;
    }
    // Strictly after the return: at equal times a call would count as concurrent with it.
    nextCall[thread] = ret + 1 + random.int(20);
  }
  // Apply in linearization order; a CAS that does not match fails and is dropped.
  const byPoint = [...planned].sort((x, y) => x.at - y.at);
  let value = 0;
  const failed = new Set<Planned>();
  for (const op of byPoint) {
    if (!op.applied) {
      continue;
    }
    if (op.f === 'read') {
      op.out = value;
    } else if (op.f === 'write') {
      value = op.a;
    } else if (value === op.a) {
      value = op.b;
    } else if (op.unknown) {
      // A crashed CAS that would not have matched: it did nothing either way.
    } else {
      failed.add(op);
    }
  }
  const history = planned.filter((op) => !failed.has(op));
  if (failing) {
    plantBadRead(history);
  }
  return history.map(({ at: _at, applied: _applied, ...op }) => op);
}

/**
 * Makes the first completed read from 90 % of the way in return a value no operation wrote.
 * (A stale value would be more lifelike, but with 0.5 % of operations crashed, crashed writes
 * of every value 0–9 are soon open, and any stale value can then be explained by one of them.)
 */
function plantBadRead(history: Planned[]): void {
  for (let i = Math.floor(history.length * 0.9); i < history.length; i++) {
    const read = history[i]!;
    if (read.f === 'read' && !read.unknown) {
      read.out = NEVER_WRITTEN;
      return;
    }
  }
  throw new Error('no completed read in the last tenth of the history');
}

/** The history as Jepsen EDN, one op map per line (what `check-history` reads). */
export function toEdn(history: readonly LongOp[]): string {
  const events: { time: number; order: number; text: string }[] = [];
  history.forEach((op, i) => {
    const value = op.f === 'read' ? 'nil' : op.f === 'write' ? String(op.a) : `[${op.a} ${op.b}]`;
    const done = op.f === 'read' ? String(op.out) : value;
    const p = op.client;
    events.push({
      time: op.call,
      order: 2 * i,
      text: `{:process ${p}, :type :invoke, :f :${op.f}, :value ${value}}`,
    });
    events.push({
      time: op.unknown ? Number.MAX_SAFE_INTEGER : op.ret,
      order: 2 * i + 1,
      text: `{:process ${p}, :type :${op.unknown ? 'info' : 'ok'}, :f :${op.f}, :value ${op.unknown ? value : done}}`,
    });
  });
  // Closed intervals: at equal times calls come first, as the checkers order them.
  events.sort((x, y) => x.time - y.time || (x.order & 1) - (y.order & 1) || x.order - y.order);
  return `${events.map((e) => e.text).join('\n')}\n`;
}
