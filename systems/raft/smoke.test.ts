import { describe, expect, it } from 'vitest';
import { Cluster } from './testkit.ts';

describe('smoke', () => {
  it('elects and commits', () => {
    const c = new Cluster({ size: 3, seed: 1 });
    const leader = c.electLeader();
    expect(leader).not.toBeNull();
    for (let i = 0; i < 20; i++) c.commitCommand(`x${i}`);
    expect(c.violations).toEqual([]);
  });
});
