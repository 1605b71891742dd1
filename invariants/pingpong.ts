// Invariants of the pingpong example system.

import type { ClusterView, Invariant, ObservationRecord, Verdict } from '../sim/types.ts';
import type { ClientView, ServerView } from '../systems/pingpong/index.ts';
import { type PingRecord, pingValue } from '../systems/pingpong/records.ts';

function formatMs(timeUs: number): string {
  return `${(timeUs / 1000).toFixed(3)} ms`;
}

/** A ping a server acknowledged survives any crash of that server. */
export function ackedPingsAreDurable(): Invariant {
  // server → "client:sequence" → the time it was acknowledged
  const acked = new Map<number, Map<string, number>>();
  const checkRecovered = (record: ObservationRecord, view: ClusterView): Verdict => {
    const records = (record.observation as unknown as { records: PingRecord[] }).records;
    const present = new Set(records.map((item) => `${item.client}:${item.sequence}`));
    for (const [key, timeUs] of acked.get(record.node) ?? []) {
      if (!present.has(key)) {
        const [client, sequence] = key.split(':').map(Number) as [number, number];
        return `${view.name(record.node)} acknowledged ping ${sequence} of ${view.name(client)} at ${formatMs(timeUs)} but no longer has it after restarting: it answered before the ping was durable`;
      }
    }
    return undefined;
  };
  return {
    name: 'acked-pings-durable',
    onObservation(record, view) {
      const observation = record.observation as unknown as Record<string, number>;
      if (record.observation.type === 'acked') {
        const server = observation['server'] as number;
        const byServer = acked.get(server) ?? new Map<string, number>();
        byServer.set(`${observation['client']}:${observation['sequence']}`, record.timeUs);
        acked.set(server, byServer);
        return undefined;
      }
      if (record.observation.type === 'recovered') {
        return checkRecovered(record, view);
      }
      return undefined;
    },
  };
}

/** Every record a server recovers is one a client really sent. */
export function recoveredRecordsIntact(): Invariant {
  return {
    name: 'records-intact',
    onObservation(record, view) {
      if (record.observation.type !== 'recovered') {
        return undefined;
      }
      const records = (record.observation as unknown as { records: PingRecord[] }).records;
      for (const item of records) {
        if (item.value !== pingValue(item.client, item.sequence)) {
          return `${view.name(record.node)} recovered a ping record (client ${item.client}, sequence ${item.sequence}) with a value no client sent: a torn or corrupted write was trusted`;
        }
      }
      return undefined;
    },
  };
}

/** Liveness: once faults stop, every client gets all its pings answered. */
export function clientsFinish(): Invariant {
  return {
    name: 'clients-finish',
    atEnd(view) {
      for (const client of view.clients) {
        const state = view.inspect(client) as ClientView | undefined;
        if (state !== undefined && state.done < state.ops) {
          return `${view.name(client)} had only ${state.done} of ${state.ops} pings answered by the end of the settle phase`;
        }
      }
      for (const server of view.servers) {
        if ((view.inspect(server) as ServerView | undefined) === undefined) {
          return `${view.name(server)} is not running at the end of the settle phase`;
        }
      }
      return undefined;
    },
  };
}
