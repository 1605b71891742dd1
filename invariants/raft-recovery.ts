// What a node's recovery may and may not conclude. A node that finds its durable state damaged
// must refuse to take part (never apply it), but a crash alone — with torn unsynced tails and
// failed fsyncs, which every node must survive — never damages what was synced: refusing to
// start after one is a durability bug (a checksum misread, a torn tail taken for corruption),
// which liveness notices only once a majority refuses, and then without saying why.
import type { Invariant } from '../sim/types.ts';
import { formatTime, raftObservation } from './raft-common.ts';

export function refusesOnlyOnMediaFault(): Invariant {
  return {
    name: 'refuses-only-on-media-fault',
    onObservation(record, view) {
      const observation = raftObservation(record);
      if (observation.type !== 'corruption-detected') {
        return undefined;
      }
      if (view.mediaFaults === undefined || view.mediaFaults(record.node) > 0) {
        return undefined;
      }
      return `${view.name(record.node)} refused to start at ${formatTime(record.timeUs)} (${observation.reason}, at byte ${observation.offset}), yet no media fault ever hit its disk: crashes, torn unsynced tails and failed fsyncs leave synced data intact, so recovery misread its own files`;
    },
  };
}
