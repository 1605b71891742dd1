// The controller's metadata state machine on its own: brokers come and go, leadership moves
// within the ISR (or, unclean, outside it), every change bumps the epochs, and a stale
// leader's AlterPartition is refused.
import { describe, expect, it } from 'vitest';

import { type MetadataCommand, MetadataStateMachine, type PartitionState } from './metadata.ts';

function machine(
  uncleanElection = false,
  fenceOnRegister = true,
  eligibleLeaderReplicas = false,
): MetadataStateMachine {
  return new MetadataStateMachine({
    partitions: [{ key: 'k0', replicas: [1, 2, 3] }],
    uncleanElection,
    fenceOnRegister,
    eligibleLeaderReplicas,
    minInsyncReplicas: 2,
  });
}

const apply = (metadata: MetadataStateMachine, ...commands: MetadataCommand[]) =>
  commands.map((command) => metadata.applyCommand(command));
const k0 = (metadata: MetadataStateMachine) => metadata.partitions.get('k0') as PartitionState;

/** Brokers 1–3 registered and unfenced, in that order. */
function running(
  uncleanElection = false,
  fenceOnRegister = true,
  eligibleLeaderReplicas = false,
): MetadataStateMachine {
  const metadata = machine(uncleanElection, fenceOnRegister, eligibleLeaderReplicas);
  for (const broker of [1, 2, 3]) {
    apply(
      metadata,
      { op: 'register', broker, session: 10 * broker },
      { op: 'unfence', broker, session: 10 * broker },
    );
  }
  return metadata;
}

/** Brokers 2 and 3 fenced: broker 1 is k0's leader and last ISR member. */
function fenceBrokers2And3(metadata: MetadataStateMachine): void {
  apply(metadata, { op: 'fence', broker: 2, session: 20 }, { op: 'fence', broker: 3, session: 30 });
}

describe('the metadata state machine', () => {
  it('elects the first live ISR member and moves leadership when it is fenced', () => {
    const metadata = running();
    expect(k0(metadata)).toMatchObject({ leader: 1, leaderEpoch: 1, isr: [1, 2, 3] });
    apply(metadata, { op: 'fence', broker: 1, session: 10 });
    expect(k0(metadata)).toMatchObject({ leader: 2, leaderEpoch: 2, isr: [2, 3] });
    // A fence of a session that is not the current one changes nothing.
    expect(apply(metadata, { op: 'fence', broker: 2, session: 99 })[0]).toMatchObject({
      ok: false,
    });
    expect(k0(metadata).leader).toBe(2);
  });

  it('keeps the last ISR member and leaves the partition offline rather than elect unclean', () => {
    const metadata = running();
    fenceBrokers2And3(metadata);
    expect(k0(metadata)).toMatchObject({ leader: 1, isr: [1] });
    apply(metadata, { op: 'fence', broker: 1, session: 10 });
    expect(k0(metadata)).toMatchObject({ leader: -1, isr: [1] });
    // Broker 2 is back, but it is not in the ISR: still offline.
    apply(metadata, { op: 'unfence', broker: 2, session: 20 });
    expect(k0(metadata).leader).toBe(-1);
    // Broker 1, the last ISR member, is back: it leads again, in a new epoch.
    const epoch = k0(metadata).leaderEpoch;
    apply(metadata, { op: 'unfence', broker: 1, session: 10 });
    expect(k0(metadata)).toMatchObject({ leader: 1, leaderEpoch: epoch + 1 });
  });

  describe('eligible leader replicas (KIP-966, min.insync.replicas 2)', () => {
    it('keeps those that leave a short ISR, and elects one when no ISR member can lead', () => {
      const metadata = running(false, true, true);
      // ISR 1, 2, 3 → 1, 2: still at min.insync.replicas, the HW moves on without 3.
      apply(metadata, { op: 'fence', broker: 3, session: 30 });
      expect(k0(metadata)).toMatchObject({ leader: 1, isr: [1, 2] });
      expect(k0(metadata).elr).toBeUndefined();
      // → 1 alone: below it, the HW stands still, and 2 holds everything below it.
      apply(metadata, { op: 'fence', broker: 2, session: 20 });
      expect(k0(metadata)).toMatchObject({ leader: 1, isr: [1], elr: [2] });
      // The last ISR member dies: 2 comes back and leads, cleanly; 1 becomes eligible.
      apply(metadata, { op: 'fence', broker: 1, session: 10 });
      expect(k0(metadata)).toMatchObject({ leader: -1, isr: [1], elr: [2] });
      const epoch = k0(metadata).leaderEpoch;
      apply(metadata, { op: 'unfence', broker: 2, session: 20 });
      expect(k0(metadata)).toMatchObject({
        leader: 2,
        leaderEpoch: epoch + 1,
        isr: [2],
        elr: [1],
      });
      // 3 left while the ISR was long enough: never eligible, it stays out.
      expect(k0(metadata).elr).not.toContain(3);
    });

    it('drops them once the ISR is back at min.insync.replicas, and a damaged one at once', () => {
      const metadata = running(false, true, true);
      fenceBrokers2And3(metadata); // 2 leaves an ISR of three, 3 one of two
      expect(k0(metadata)).toMatchObject({ isr: [1], elr: [3] });
      const { leaderEpoch, partitionEpoch } = k0(metadata);
      apply(metadata, { op: 'unfence', broker: 2, session: 20 });
      apply(metadata, {
        op: 'alter-partition',
        key: 'k0',
        leader: 1,
        leaderEpoch,
        partitionEpoch,
        isr: [1, 2],
      });
      expect(k0(metadata)).toMatchObject({ isr: [1, 2] });
      expect(k0(metadata).elr).toBeUndefined();
      // Short again, then 2 restarts with its copy damaged: not eligible, and 1 dies too.
      apply(metadata, { op: 'fence', broker: 2, session: 20 });
      expect(k0(metadata)).toMatchObject({ isr: [1], elr: [2] });
      apply(metadata, { op: 'register', broker: 2, session: 21, damaged: ['k0'] });
      expect(k0(metadata)).toMatchObject({ isr: [1] });
      expect(k0(metadata).elr).toBeUndefined();
      apply(
        metadata,
        { op: 'fence', broker: 1, session: 10 },
        { op: 'unfence', broker: 2, session: 21 },
      );
      expect(k0(metadata)).toMatchObject({ leader: -1 }); // offline rather than lose records
    });

    it('are never kept with the option off, and the metadata reads as before', () => {
      const metadata = running();
      fenceBrokers2And3(metadata);
      apply(
        metadata,
        { op: 'fence', broker: 1, session: 10 },
        { op: 'unfence', broker: 2, session: 20 },
      );
      expect(k0(metadata)).toMatchObject({ leader: -1, isr: [1] });
      expect('elr' in k0(metadata)).toBe(false);
    });
  });

  it('with unclean election on, takes an out-of-sync replica and makes it the whole ISR', () => {
    const metadata = running(true);
    fenceBrokers2And3(metadata);
    apply(metadata, { op: 'fence', broker: 1, session: 10 });
    apply(metadata, { op: 'unfence', broker: 3, session: 30 });
    expect(k0(metadata)).toMatchObject({ leader: 3, isr: [3] });
  });

  it('refuses an AlterPartition from a stale leader or epoch, and accepts the current one', () => {
    const metadata = running();
    const { leaderEpoch, partitionEpoch } = k0(metadata);
    const shrink: MetadataCommand = {
      op: 'alter-partition',
      key: 'k0',
      leader: 1,
      leaderEpoch,
      partitionEpoch,
      isr: [1, 2],
    };
    expect(apply(metadata, { ...shrink, leader: 2 })[0]).toMatchObject({ ok: false });
    expect(apply(metadata, { ...shrink, partitionEpoch: partitionEpoch - 1 })[0]).toMatchObject({
      ok: false,
    });
    expect(apply(metadata, shrink)[0]).toMatchObject({ ok: true });
    expect(k0(metadata)).toMatchObject({ isr: [1, 2], partitionEpoch: partitionEpoch + 1 });
    // The same request again is stale now (the partition epoch moved).
    expect(apply(metadata, shrink)[0]).toMatchObject({ ok: false });
  });

  it('fences a restarted broker (KRaft), or lets it keep its place (ZooKeeper-era)', () => {
    const kraft = running();
    apply(kraft, { op: 'register', broker: 1, session: 11 });
    expect(k0(kraft)).toMatchObject({ leader: 2, leaderEpoch: 2, isr: [2, 3] });
    const zk = running(false, false);
    apply(zk, { op: 'register', broker: 1, session: 11 });
    expect(k0(zk)).toMatchObject({ leader: 1, leaderEpoch: 1, isr: [1, 2, 3] });
  });

  it('takes a broker that found its copy damaged out of the ISR, even as the last member', () => {
    // ISR down to broker 1 alone (2 and 3 fenced), then 1 restarts with k0 damaged: without
    // the damage it would stay as the last member and lead again.
    const metadata = running();
    fenceBrokers2And3(metadata);
    expect(k0(metadata)).toMatchObject({ leader: 1, isr: [1] });
    const plain = running();
    fenceBrokers2And3(plain);
    apply(
      plain,
      { op: 'register', broker: 1, session: 11 },
      { op: 'unfence', broker: 1, session: 11 },
    );
    expect(k0(plain)).toMatchObject({ leader: 1, isr: [1] });
    apply(metadata, { op: 'register', broker: 1, session: 11, damaged: ['k0'] });
    apply(metadata, { op: 'unfence', broker: 1, session: 11 });
    // Offline, with nobody eligible, rather than led by a copy that lacks records.
    expect(k0(metadata)).toMatchObject({ leader: -1, isr: [] });
    // With another ISR member, leadership moves there and the damaged one is out.
    const shared = running();
    apply(shared, { op: 'register', broker: 1, session: 11, damaged: ['k0'] });
    expect(k0(shared)).toMatchObject({ leader: 2, isr: [2, 3] });
    // A retried registration of the same session changes nothing more.
    const before = k0(shared).partitionEpoch;
    apply(shared, { op: 'register', broker: 1, session: 11, damaged: ['k0'] });
    expect(k0(shared).partitionEpoch).toBe(before);
  });

  it('restores what it snapshotted', () => {
    const metadata = running();
    apply(metadata, { op: 'fence', broker: 1, session: 10 });
    const copy = machine();
    copy.restore(metadata.snapshot());
    expect([...copy.partitions.values()]).toEqual([...metadata.partitions.values()]);
    expect([...copy.brokers.values()]).toEqual([...metadata.brokers.values()]);
  });
});
