// The in-memory Raft log: a snapshot base (index, term, voters) plus the entries after it, and
// two watermarks for persistence: `handed` (handed to the adapter in a Ready) and `persisted`
// (the adapter said it is durable). Entries above `handed` still have to be handed out.
import { fail } from '../../sim/assert.ts';
import type { Entry, NodeId, SnapshotMeta } from './types.ts';

export class RaftLog {
  private base: SnapshotMeta;
  private entries: Entry[] = [];
  /** Entries at or below this index were handed out in a Ready (or restored from disk). */
  handed: number;
  /** Entries at or below this index are durable. */
  persisted: number;
  /** Entries above `handed` may still be on disk from before a truncation: the next Ready says so. */
  rewritten = false;

  constructor(base: SnapshotMeta, restored: readonly Entry[]) {
    this.base = base;
    for (const entry of restored) {
      if (entry.index <= base.lastIncludedIndex) {
        continue;
      }
      if (entry.index !== this.lastIndex() + 1) {
        fail(`restored log has a gap before ${entry.index}`);
      }
      this.entries.push(entry);
    }
    this.handed = this.lastIndex();
    this.persisted = this.lastIndex();
  }

  snapshotMeta(): SnapshotMeta {
    return this.base;
  }

  firstIndex(): number {
    return this.base.lastIncludedIndex + 1;
  }

  lastIndex(): number {
    return this.base.lastIncludedIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.termAt(this.lastIndex()) ?? 0;
  }

  /** The term at index, or undefined if index is compacted away or beyond the end. */
  termAt(index: number): number | undefined {
    if (index === this.base.lastIncludedIndex) {
      return this.base.lastIncludedTerm;
    }
    return this.entryAt(index)?.term;
  }

  entryAt(index: number): Entry | undefined {
    if (index <= this.base.lastIncludedIndex || index > this.lastIndex()) {
      return undefined;
    }
    const entry = this.entries[index - this.base.lastIncludedIndex - 1];
    if (!(entry !== undefined && entry.index === index)) {
      fail(`log position ${index} is inconsistent`);
    }
    return entry;
  }

  /** Entries in [lo, hi], both available in the log. */
  slice(lo: number, hi: number): Entry[] {
    if (!(lo >= this.firstIndex() && hi <= this.lastIndex())) {
      fail(`slice [${lo}, ${hi}] out of range`);
    }
    if (lo > hi) {
      return [];
    }
    const offset = this.base.lastIncludedIndex + 1;
    return this.entries.slice(lo - offset, hi - offset + 1);
  }

  matchTerm(index: number, term: number): boolean {
    return this.termAt(index) === term;
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Appends at the end (leader path, or a follower appending past its last index). */
  append(entry: Entry): void {
    if (entry.index !== this.lastIndex() + 1) {
      fail(`append at ${entry.index} leaves a gap`);
    }
    this.entries.push(entry);
  }

  /** Drops every entry with index >= from. Returns how many were dropped. */
  truncateFrom(from: number): number {
    if (!(from > this.base.lastIncludedIndex)) {
      fail(`cannot truncate into the snapshot at ${from}`);
    }
    const keep = from - this.base.lastIncludedIndex - 1;
    const dropped = Math.max(0, this.entries.length - keep);
    this.entries.length = Math.min(this.entries.length, keep);
    this.rewritten = true;
    this.handed = Math.min(this.handed, from - 1);
    this.persisted = Math.min(this.persisted, from - 1);
    return dropped;
  }

  /** Replaces the entry at an existing index in place (used only by the no-truncate bug). */
  overwriteInPlace(entry: Entry): void {
    const position = entry.index - this.base.lastIncludedIndex - 1;
    if (!(position >= 0 && position < this.entries.length)) {
      fail(`overwrite at ${entry.index} out of range`);
    }
    this.entries[position] = entry;
    this.rewritten = true;
    this.handed = Math.min(this.handed, entry.index - 1);
    this.persisted = Math.min(this.persisted, entry.index - 1);
  }

  /**
   * The first index in `entries` that is not already in the log with the same term
   * (0 if every entry is already present).
   */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (entry.index <= this.base.lastIncludedIndex) {
        continue;
      }
      if (!this.matchTerm(entry.index, entry.term)) {
        return entry.index;
      }
    }
    return 0;
  }

  /** The first index at or after firstIndex() holding the same term as index (fast backup). */
  firstIndexOfTerm(index: number): number {
    const term = this.termAt(index);
    if (term === undefined) {
      fail(`firstIndexOfTerm(${index}) outside the log`);
    }
    let first = index;
    while (first - 1 >= this.firstIndex() && this.termAt(first - 1) === term) {
      first--;
    }
    return first;
  }

  /** The last index holding `term`, or 0 if the log has no entry of that term. */
  lastIndexOfTerm(term: number): number {
    for (let index = this.lastIndex(); index >= this.base.lastIncludedIndex; index--) {
      const t = this.termAt(index);
      if (t === undefined || t < term) {
        return 0;
      }
      if (t === term) {
        return index;
      }
    }
    return 0;
  }

  /** Compacts the prefix through index (which must be in the log) into a new base. */
  compactTo(index: number, voters: readonly NodeId[]): void {
    const term = this.termAt(index);
    if (term === undefined) {
      fail(`compactTo(${index}) outside the log`);
    }
    if (index <= this.base.lastIncludedIndex) {
      return;
    }
    this.entries = this.entries.slice(index - this.base.lastIncludedIndex);
    this.base = { lastIncludedIndex: index, lastIncludedTerm: term, voters: [...voters] };
    // Entries through index are now covered by the snapshot the same Ready persists.
    this.handed = Math.max(this.handed, index);
    this.persisted = Math.max(this.persisted, index);
  }

  /** Discards the whole log and restarts it after the snapshot. */
  resetTo(meta: SnapshotMeta): void {
    this.entries = [];
    this.base = { ...meta, voters: [...meta.voters] };
    this.rewritten = true;
    this.handed = meta.lastIncludedIndex;
    this.persisted = meta.lastIncludedIndex;
  }

  /** The newest config entry at or below index (and above the base), if any. */
  lastConfigAtOrBelow(index: number): Entry | undefined {
    const top = Math.min(index, this.lastIndex());
    for (let i = top; i > this.base.lastIncludedIndex; i--) {
      const entry = this.entryAt(i);
      if (entry?.kind === 'config') {
        return entry;
      }
    }
    return undefined;
  }
}
