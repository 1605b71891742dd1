// The simulated network: per-message latency with jitter and a long tail, drops, duplicates,
// reordering (which falls out of jitter), and partitions as a matrix of cut directed links.
// A message crosses only if its link is open both when it is sent and when it arrives.
import { assert } from './assert.ts';
import type { Random } from './random.ts';
import type { Knobs, Link } from './types.ts';

export interface LinkStats {
  messages: Float64Array;
  bytes: Float64Array;
}

export class Network {
  readonly size: number;
  private readonly cut: Uint8Array;
  private cutCount = 0;
  readonly stats: LinkStats;
  dropProbability: number;
  duplicateProbability: number;
  private latencyTailProbability: number;
  private readonly latencyTailMultiplier: number;
  private readonly latencyMinUs: number;
  private readonly latencyJitterMeanUs: number;

  constructor(
    size: number,
    knobs: Knobs,
    private readonly random: Random,
  ) {
    assert(size > 0 && size <= 1024, 'a network has 1 to 1024 nodes');
    this.size = size;
    this.cut = new Uint8Array(size * size);
    this.stats = { messages: new Float64Array(size * size), bytes: new Float64Array(size * size) };
    this.dropProbability = knobs.dropProbability;
    this.duplicateProbability = knobs.duplicateProbability;
    this.latencyTailProbability = knobs.latencyTailProbability;
    this.latencyTailMultiplier = knobs.latencyTailMultiplier;
    this.latencyMinUs = knobs.latencyMinUs;
    this.latencyJitterMeanUs = knobs.latencyJitterMeanUs;
  }

  isCut(from: number, to: number): boolean {
    return this.cutCount > 0 && this.cut[from * this.size + to] === 1;
  }

  /** Replaces the current partition: exactly the given directed links are cut. */
  partition(links: readonly Link[]): void {
    this.cut.fill(0);
    this.cutCount = 0;
    for (const [from, to] of links) {
      assert(from >= 0 && from < this.size && to >= 0 && to < this.size, 'link out of range');
      if (this.cut[from * this.size + to] === 0) {
        this.cut[from * this.size + to] = 1;
        this.cutCount++;
      }
    }
  }

  heal(): void {
    this.cut.fill(0);
    this.cutCount = 0;
  }

  /** Faults stop: no more drops, duplicates or tail latency. */
  calm(): void {
    this.dropProbability = 0;
    this.duplicateProbability = 0;
    this.latencyTailProbability = 0;
    this.heal();
  }

  count(from: number, to: number, sizeBytes: number): void {
    const index = from * this.size + to;
    this.stats.messages[index] = (this.stats.messages[index] as number) + 1;
    this.stats.bytes[index] = (this.stats.bytes[index] as number) + sizeBytes;
  }

  shouldDrop(): boolean {
    return this.dropProbability > 0 && this.random.chance(this.dropProbability);
  }

  shouldDuplicate(): boolean {
    return this.duplicateProbability > 0 && this.random.chance(this.duplicateProbability);
  }

  /** One message's delay: the minimum, exponential jitter, and now and then a long tail. */
  delayUs(): number {
    let delay = this.latencyMinUs;
    if (this.latencyJitterMeanUs > 0) {
      delay += this.random.exponential(this.latencyJitterMeanUs);
    }
    if (this.latencyTailProbability > 0 && this.random.chance(this.latencyTailProbability)) {
      this.tailHits++;
      delay *= this.latencyTailMultiplier;
    }
    return delay;
  }

  tailHits = 0;
}
