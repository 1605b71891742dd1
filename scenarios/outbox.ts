// The transactional outbox (issue 16): order services writing orders and their events in one
// transaction to the order database, a relay getting the events out to Kafka-lite's
// `orders` topic, and payment and shipping consumers applying each event exactly once on
// their own databases — all in one simulation, under every fault kind, with crashes of the
// services, the relay, the databases, the brokers and the consumers. Every committed
// transaction's events must reach both consumers once, in order per order; no aborted one's
// may; the relay must catch up after the settle phase.
//
// `dual-write` is the same system without an outbox: the service commits, then publishes
// itself, and a crash in between loses the event.
import { kafkaBrokerInvariants } from '../invariants/kafka-brokers.ts';
import { outboxInvariants, type RelayKind } from '../invariants/outbox.ts';
import { raftSafetyInvariants } from '../invariants/raft.ts';
import { quietKnobs } from '../sim/plan.ts';
import { registerScenario, type Scenario } from '../sim/scenario.ts';
import { FAULT_KINDS, FAULT_KINDS_BUT_MEDIA } from '../sim/types.ts';
import { CRASH_POINTS, type CrashPoint } from '../systems/outbox/crash-points.ts';
import { DB_VARIANTS, dbNodeProgram } from '../systems/outbox/db-node.ts';
import { CDC_VARIANTS, outboxGroups, POLLING_VARIANTS } from '../systems/outbox/program.ts';
import { ELR_SOMETIMES } from './kafka.ts';

const SECOND = 1_000_000;

const database = dbNodeProgram;

/** The database node's own known bugs, as `db:name` (the order database and the consumers'). */
const DATABASE_VARIANTS: Record<string, string> = Object.fromEntries(
  Object.entries(DB_VARIANTS).map(([name, description]) => [`db:${name}`, description]),
);

function outboxScenario(
  relay: RelayKind,
): Omit<Scenario, 'name' | 'description' | 'variants' | 'groups'> {
  return {
    system: 'outbox',
    durationUs: 6 * SECOND,
    settleUs: 8 * SECOND,
    shape: {
      durationUs: { min: 2 * SECOND, max: 8 * SECOND },
      groupSizes: { brokers: [3, 4], services: [1, 2] },
    },
    faults: {
      eligible: [...FAULT_KINDS_BUT_MEDIA],
      swarm: true,
    },
    workload: {
      keys: 3,
      replicationFactor: 3,
      minInsyncReplicas: 2,
      acks: 'all',
      uncleanElection: false,
      leaderEpochs: true,
      serviceThinkUs: 120_000,
    },
    invariants: (plan) => [
      ...raftSafetyInvariants({ groups: ['metadata'] }),
      ...kafkaBrokerInvariants(),
      ...outboxInvariants(plan, { relay }),
    ],
    sometimes: {
      'a consumer absorbed a redelivered record': (record) =>
        record.observation.type === 'outbox-duplicate-absorbed',
      'a transaction with several events committed': (record) =>
        record.observation.type === 'outbox-tx-committed' &&
        (record.observation['events'] as unknown[]).length > 1,
      'a transaction rolled back': (record) => record.observation.type === 'outbox-tx-aborted',
      ...(relay === 'none'
        ? {}
        : {
            'a relay re-published an event after a crash and a consumer absorbed it': (record) =>
              record.observation.type === 'outbox-duplicate-absorbed' &&
              (record.observation['offset'] !== record.observation['firstOffset'] ||
                record.observation['key'] !== record.observation['firstKey']),
          }),
      ...(relay === 'cdc'
        ? {
            'the relay published an event of a multi-event LSN': (record) =>
              record.observation.type === 'outbox-published' &&
              ((record.observation['eventsAtLsn'] as number | undefined) ?? 0) > 1,
            'the relay resumed from a saved position': (record) =>
              record.observation.type === 'outbox-relay-resumed' &&
              record.observation['after'] !== null,
          }
        : {}),
    },
  };
}

/**
 * The two swarms draw durable corruption too (bit rot, misdirected writes; latent sector
 * errors stay out, as in `kafka`), with the brokers' recovery points and the controllers'
 * sync marks on. The media-fault atlas hits a minority of each server group only, so the lone
 * databases, the relay and the services are spared (a lone copy cannot be repaired) and the
 * faults land on a broker and a controller. When the damaged broker was a partition's last
 * in-sync member, clean election keeps that partition offline; the delivery checks excuse
 * what that strands (invariants/outbox.ts), and nothing else. Eligible leader replicas
 * (KIP-966) are on, as in `kafka` (scenarios/kafka.ts), and keep such a partition available
 * when a fenced replica's copy is intact. The crash-point and dual-write scenarios draw none.
 */
function withMediaFaults(
  scenario: ReturnType<typeof outboxScenario>,
): ReturnType<typeof outboxScenario> {
  return {
    ...scenario,
    faults: { eligible: FAULT_KINDS.filter((kind) => kind !== 'latent-sector'), swarm: true },
    workload: {
      ...scenario.workload,
      recoveryPoints: true,
      syncMarks: true,
      eligibleLeaderReplicas: true,
    },
    sometimes: { ...scenario.sometimes, ...ELR_SOMETIMES },
  };
}

registerScenario({
  ...withMediaFaults(outboxScenario('cdc')),
  name: 'outbox-cdc',
  groups: outboxGroups({ relay: 'cdc', services: 2, brokers: 4, database }),
  description:
    'Order services write each order and its outbox events in one transaction; a CDC relay tails the database log from its durable (lsn, index) position into Kafka-lite (idempotent, acks=all); payment and shipping consumers apply each event once on their own databases. Crashes everywhere. Committed events reach both consumers exactly once and in order per order, aborted ones never, the relay catches up.',
  variants: { ...CDC_VARIANTS, ...DATABASE_VARIANTS },
});

registerScenario({
  ...withMediaFaults(outboxScenario('polling')),
  name: 'outbox-polling',
  groups: outboxGroups({ relay: 'polling', services: 2, brokers: 4, database }),
  description:
    'As outbox-cdc, with a polling publisher instead of the CDC relay: it scans unsent outbox rows in key order, publishes them in order, then deletes them. Committed events reach both consumers exactly once and in order per order, aborted ones never, the outbox drains.',
  variants: { ...POLLING_VARIANTS, ...DATABASE_VARIANTS },
});

registerScenario({
  ...outboxScenario('none'),
  name: 'dual-write',
  groups: outboxGroups({ relay: 'none', services: 2, brokers: 4, database }),
  workload: { ...outboxScenario('none').workload, serviceMode: 'dual-write' },
  description:
    'Expected loss: no outbox. The order service commits its transaction, then publishes the events to Kafka-lite itself; a crash of the service between the commit and the acknowledgement loses them (the dual-write problem).',
  variants: {},
});

registerScenario({
  ...outboxScenario('none'),
  name: 'dual-write-publish-first',
  groups: outboxGroups({ relay: 'none', services: 2, brokers: 4, database }),
  workload: {
    ...outboxScenario('none').workload,
    serviceMode: 'dual-write',
    dualWriteOrder: 'publish-first',
  },
  description:
    'Expected invention: no outbox, and the service publishes its events before the credit check and the commit; an order that then rolls back (or whose commit is lost with a crash) was announced anyway, and the consumers act on it.',
  variants: {},
});

// ---- a crash at every line ---------------------------------------------------------------------

/** The crash points each relay kind's run passes through (crash-points.ts). */
const POINTS_BY_RELAY: Record<RelayKind, readonly CrashPoint[]> = {
  cdc: CRASH_POINTS.filter(
    (point) => !point.startsWith('poller-') && point !== 'service-after-publish',
  ),
  polling: CRASH_POINTS.filter(
    (point) => !point.startsWith('relay-') && point !== 'service-after-publish',
  ),
  // The dual-writing service has no relay, and publishes itself.
  none: CRASH_POINTS.filter(
    (point) => point.startsWith('service-') || point.startsWith('consumer-'),
  ),
};
/** Which hit of the point kills the process: the first, second or third in each incarnation. */
const HITS = 3;

function crashPointScenario(relay: RelayKind, name: string): void {
  const points = POINTS_BY_RELAY[relay];
  const base = outboxScenario(relay);
  const dualWrite = relay === 'none';
  registerScenario({
    ...base,
    name,
    ...(dualWrite ? { workload: { ...base.workload, serviceMode: 'dual-write' } } : {}),
    groups: outboxGroups({ relay, services: 2, brokers: 3, database }),
    shape: undefined,
    // A relay that dies at every read gets nothing out until the settle phase: give it time.
    settleUs: 12 * SECOND,
    description: `${dualWrite ? 'Expected loss: the dual-writing service under ' : ''}A crash at every line (${relay === 'cdc' ? 'CDC relay' : relay === 'polling' ? 'polling publisher' : 'no outbox: the service commits, then publishes'}): seed s crashes the process at crash point ${points.length > 0 ? 'number s mod ' + points.length : ''} of [${points.join(', ')}], on hit 1 + ⌊s / ${points.length}⌋ mod ${HITS} of it in every incarnation until the settle phase, with no other fault. Each must end with every committed event consumed exactly once, in order, and the relay caught up.`,
    faults: { eligible: [], swarm: false },
    plan: (seed, plan) => ({
      ...plan,
      knobs: quietKnobs(),
      faults: [],
      workload: {
        ...plan.workload,
        crashPoint: points[seed % points.length] as string,
        crashPointHit: 1 + (Math.floor(seed / points.length) % HITS),
      },
    }),
    sometimes: {
      ...base.sometimes,
      'the scripted crash point killed a process': (record) =>
        record.observation.type === 'outbox-crash-point',
    },
    variants: relay === 'cdc' ? CDC_VARIANTS : relay === 'polling' ? POLLING_VARIANTS : {},
  });
}

crashPointScenario('cdc', 'outbox-crash-points');
crashPointScenario('polling', 'outbox-polling-crash-points');
crashPointScenario('none', 'dual-write-crash-points');

/** How many seeds cover every crash point of a crash-points scenario at every hit. */
export function crashPointSeeds(relay: RelayKind): number {
  return POINTS_BY_RELAY[relay].length * HITS;
}
