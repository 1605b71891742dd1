import { describe, expect, it } from 'vitest';

import type { ClusterView, ObservationRecord } from '../sim/types.ts';
import { refusesOnlyOnMediaFault } from './raft-recovery.ts';

function viewWith(mediaFaults: number[]): ClusterView {
  return {
    servers: [0, 1, 2],
    clients: [],
    groups: [],
    members: () => [0, 1, 2],
    groupOf: () => 'servers',
    timeUs: 0,
    phase: 'faults',
    isUp: () => true,
    inspect: () => undefined,
    name: (node) => `n${node + 1}`,
    history: [],
    mediaFaults: (node) => mediaFaults[node] ?? 0,
  };
}

const refused = (node: number): ObservationRecord => ({
  node,
  timeUs: 1_500_000,
  eventIndex: 7,
  observation: { type: 'corruption-detected', offset: 4096, reason: 'log corrupt' },
});

describe('refuses-only-on-media-fault', () => {
  it('flags a refusal on a disk no media fault hit, naming the node and the reason', () => {
    const verdict = refusesOnlyOnMediaFault().onObservation?.(refused(1), viewWith([3, 0, 0]));
    expect(verdict).toMatch(/^n2 refused to start at 1500\.000 ms \(log corrupt, at byte 4096\)/);
  });

  it('excuses a refusal after a media fault hit that same disk', () => {
    const check = refusesOnlyOnMediaFault();
    expect(check.onObservation?.(refused(0), viewWith([1, 0, 0]))).toBeUndefined();
    expect(check.onObservation?.(refused(2), viewWith([0, 0, 2]))).toBeUndefined();
  });

  it('looks at nothing but refusals', () => {
    const restarted: ObservationRecord = {
      ...refused(1),
      observation: { type: 'restarted', term: 3, lastIndex: 9 },
    };
    expect(refusesOnlyOnMediaFault().onObservation?.(restarted, viewWith([]))).toBeUndefined();
  });
});
