// The simulator's single event queue: a binary min-heap ordered by (time, insertion counter).
// The counter breaks ties in insertion order, so the order never depends on anything but
// the sequence of pushes — which the seed determines.
import { assert } from './assert.ts';

export const EventKind = {
  Deliver: 0,
  Timer: 1,
  Synced: 2,
  Fault: 3,
  Script: 4,
  Resume: 5,
  Settle: 6,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

export class SimEvent {
  timeUs: number;
  sequence: number;
  kind: EventKind;
  node: number;
  /** The target node's incarnation when the event was scheduled; stale ones are skipped. */
  incarnation: number;
  from: number;
  /** Timer or sync id, or the index of a fault or script step. */
  id: number;
  payload: unknown;
  digest: number;

  constructor(
    timeUs: number,
    sequence: number,
    kind: EventKind,
    node: number,
    incarnation: number,
    from: number,
    id: number,
    payload: unknown,
    digest: number,
  ) {
    this.timeUs = timeUs;
    this.sequence = sequence;
    this.kind = kind;
    this.node = node;
    this.incarnation = incarnation;
    this.from = from;
    this.id = id;
    this.payload = payload;
    this.digest = digest;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.timeUs < b.timeUs || (a.timeUs === b.timeUs && a.sequence < b.sequence);
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private readonly capacityMax: number;

  constructor(capacityMax: number) {
    assert(capacityMax > 0, 'the event queue needs a positive capacity');
    this.capacityMax = capacityMax;
  }

  get size(): number {
    return this.heap.length;
  }

  push(event: SimEvent): void {
    const heap = this.heap;
    assert(heap.length < this.capacityMax, 'event queue is full: a system floods the simulator');
    let index = heap.length;
    heap.push(event);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentEvent = heap[parent] as SimEvent;
      if (!before(event, parentEvent)) {
        break;
      }
      heap[index] = parentEvent;
      index = parent;
    }
    heap[index] = event;
  }

  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) {
      return top;
    }
    const length = heap.length;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) {
        break;
      }
      const right = left + 1;
      let child = left;
      let childEvent = heap[left] as SimEvent;
      if (right < length) {
        const rightEvent = heap[right] as SimEvent;
        if (before(rightEvent, childEvent)) {
          child = right;
          childEvent = rightEvent;
        }
      }
      if (!before(childEvent, last)) {
        break;
      }
      heap[index] = childEvent;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}
