// The outbox delivery contract with its checkers (invariants/outbox.ts): the observations the
// order services, relays and consumers make, and what their inspect() shows. Checkers read
// the system only through the parsers below (and Kafka-lite's own contract for the topic).
import type { ClusterView, NodeContext, NodeId, Observation } from '../../sim/types.ts';
import type { KafkaKey } from '../kafka/contract.ts';
import type { LogPosition } from './db-protocol.ts';
import type { OutboxEvent } from './events.ts';

/** How the service gets its events out: the outbox (correct), or one of two mistakes. */
export type ServiceMode = 'outbox' | 'outside-transaction' | 'dual-write';

/**
 * `outbox-tx-commit-sent`: the service asked the database to commit (first time). Until an
 * outcome follows, the transaction may or may not have committed: a crash now leaves it so.
 */
export interface TxCommitSentObservation {
  readonly type: 'outbox-tx-commit-sent';
  readonly service: string;
  readonly txId: string;
  readonly events: readonly OutboxEvent[];
}

/** `outbox-tx-committed`: the database acknowledged the business transaction's commit. */
export interface TxCommittedObservation {
  readonly type: 'outbox-tx-committed';
  readonly service: string;
  readonly txId: string;
  readonly lsn: number;
  /** The events it owes the world, in the order written (outbox key order). */
  readonly events: readonly OutboxEvent[];
  readonly mode: ServiceMode;
}

/** `outbox-tx-aborted`: definitely never committed (rolled back, conflict, lost, failed step). */
export interface TxAbortedObservation {
  readonly type: 'outbox-tx-aborted';
  readonly service: string;
  readonly txId: string;
  readonly reason: string;
  readonly events: readonly OutboxEvent[];
}

/** `outbox-tx-in-doubt`: the commit was sent, and no answer said whether it happened. */
export interface TxInDoubtObservation {
  readonly type: 'outbox-tx-in-doubt';
  readonly service: string;
  readonly txId: string;
  readonly events: readonly OutboxEvent[];
}

/** `outbox-effect-applied`: a consumer's effect transaction for one event committed. */
export interface EffectAppliedObservation {
  readonly type: 'outbox-effect-applied';
  readonly consumer: string;
  readonly eventId: number;
  readonly aggregateId: number;
  /** Where it was read in Kafka. */
  readonly key: KafkaKey;
  readonly offset: number;
  /** The aggregate's ledger row after this transaction: every event id applied to it, in order. */
  readonly ledger: readonly number[];
}

/** `outbox-duplicate-absorbed`: a consumer found the event already processed and skipped it. */
export interface DuplicateAbsorbedObservation {
  readonly type: 'outbox-duplicate-absorbed';
  readonly consumer: string;
  readonly eventId: number;
  readonly key: KafkaKey;
  readonly offset: number;
  /** Where it was first processed: another offset means it was published twice. */
  readonly firstKey: KafkaKey;
  readonly firstOffset: number;
}

/** `outbox-published`: a relay (or a dual-writing service) got Kafka's acknowledgement. */
export interface PublishedObservation {
  readonly type: 'outbox-published';
  readonly publisher: string;
  readonly eventId: number;
  readonly key: KafkaKey;
  readonly offset: number;
  /** The change-feed position it was read at (CDC relay only). */
  readonly position?: LogPosition;
  /** How many outbox events the relay read at that LSN (CDC relay only). */
  readonly eventsAtLsn?: number;
}

/** `outbox-relay-resumed`: a relay started from its durably saved position. */
export interface RelayResumedObservation {
  readonly type: 'outbox-relay-resumed';
  readonly relay: string;
  readonly incarnation: number;
  /** What it resumes after (null: the start of the log). */
  readonly after: LogPosition | null;
}

/** `outbox-crash-point`: the node is about to die at one of its crash points (crash-points.ts). */
export interface CrashPointObservation {
  readonly type: 'outbox-crash-point';
  readonly node: string;
  readonly point: string;
}

export type OutboxObservation =
  | CrashPointObservation
  | TxCommitSentObservation
  | TxCommittedObservation
  | TxAbortedObservation
  | TxInDoubtObservation
  | EffectAppliedObservation
  | DuplicateAbsorbedObservation
  | PublishedObservation
  | RelayResumedObservation;

/** Records a typed observation (the kernel's Observation is an open record). */
export function observe(ctx: Pick<NodeContext, 'observe'>, observation: OutboxObservation): void {
  ctx.observe(observation as unknown as Observation);
}

function parser<T extends OutboxObservation>(type: T['type']) {
  return (observation: Observation): T | undefined =>
    observation.type === type ? (observation as unknown as T) : undefined;
}

export const crashPointHit = parser<CrashPointObservation>('outbox-crash-point');
export const txCommitSent = parser<TxCommitSentObservation>('outbox-tx-commit-sent');
export const txCommitted = parser<TxCommittedObservation>('outbox-tx-committed');
export const txAborted = parser<TxAbortedObservation>('outbox-tx-aborted');
export const txInDoubt = parser<TxInDoubtObservation>('outbox-tx-in-doubt');
export const effectApplied = parser<EffectAppliedObservation>('outbox-effect-applied');
export const duplicateAbsorbed = parser<DuplicateAbsorbedObservation>('outbox-duplicate-absorbed');
export const published = parser<PublishedObservation>('outbox-published');
export const relayResumed = parser<RelayResumedObservation>('outbox-relay-resumed');

// ---- the god's-eye view --------------------------------------------------------------------

/** The CDC relay's inspect(). */
export interface CdcRelayInspect {
  readonly role: 'cdc-relay';
  /** The position it has durably saved (what a restart resumes after). */
  readonly saved: LogPosition | null;
  /** The database's durable log end as the relay last heard it (0: not yet). */
  readonly endLsn: number;
}

/** The polling publisher's inspect(). */
export interface PollerInspect {
  readonly role: 'outbox-poller';
  /** When (virtual µs on its clock's phase: settle or not) its last scan found no unsent row. */
  readonly lastEmptyScanUs: number;
  readonly lastEmptyScanPhase: 'faults' | 'settle' | null;
}

/** A consumer's inspect(). */
export interface ConsumerInspect {
  readonly role: 'outbox-consumer';
  readonly positions: ReadonlyMap<KafkaKey, number>;
}

export function cdcRelayState(view: ClusterView, node: NodeId): CdcRelayInspect | undefined {
  const inspected = view.inspect(node) as Partial<CdcRelayInspect> | undefined;
  return inspected?.role === 'cdc-relay' ? (inspected as CdcRelayInspect) : undefined;
}

export function pollerState(view: ClusterView, node: NodeId): PollerInspect | undefined {
  const inspected = view.inspect(node) as Partial<PollerInspect> | undefined;
  return inspected?.role === 'outbox-poller' ? (inspected as PollerInspect) : undefined;
}

/** The groups of an outbox run, by role (program.ts names them so). */
export const OUTBOX_GROUPS = {
  db: 'db',
  services: 'services',
  relay: 'relay',
  poller: 'poller',
  payments: 'payments',
  paymentsDb: 'paydb',
  shipping: 'shipping',
  shippingDb: 'shipdb',
} as const;
