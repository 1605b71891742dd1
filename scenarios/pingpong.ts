// The example scenario: three servers that make pings durable before answering, two
// clients that retry, and every fault the example can meet.

import {
  ackedPingsAreDurable,
  clientsFinish,
  recoveredRecordsIntact,
} from '../invariants/pingpong.ts';
import { registerScenario } from '../sim/scenario.ts';
import { FAULT_KINDS_BUT_MEDIA } from '../sim/types.ts';
import { PINGPONG_VARIANTS, pingpongGroups } from '../systems/pingpong/index.ts';

registerScenario({
  name: 'pingpong',
  description:
    'Clients ping servers that fsync each ping before answering; crashes must not lose an answered ping.',
  system: 'pingpong',
  durationUs: 2_000_000,
  settleUs: 2_000_000,
  faults: {
    // A media fault in a server's only copy of its log cannot be repaired: the example keeps
    // no replicas to repair from.
    eligible: [...FAULT_KINDS_BUT_MEDIA],
    swarm: true,
  },
  workload: { opsPerClient: 20 },
  shrinkableWorkload: { opsPerClient: 0 },
  variants: PINGPONG_VARIANTS,
  groups: pingpongGroups(3, 2),
  invariants: () => [ackedPingsAreDurable(), recoveredRecordsIntact(), clientsFinish()],
  sometimes: {
    'a torn log tail was recovered': (record) => record.observation.type === 'torn-tail-recovered',
    'a ping was retried': (record) => record.observation.type === 'retried',
    'an fsync failed': (record) => record.observation.type === 'fsync-failed',
    'a server recovered pings after a restart': (record) =>
      record.observation.type === 'recovered' &&
      (record.observation as unknown as { records: unknown[] }).records.length > 0,
  },
});
