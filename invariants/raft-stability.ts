// A stable leader stays while the network is healthy. Safety holds with any number of needless
// elections, and liveness after the settle phase only asks for a leader at the end and a fresh
// commit, so a Raft that deposes a healthy leader again and again — election timeouts shorter
// than the heartbeat, pre-votes granted to anyone, a lease that no longer guards votes — passes
// both. Raft's timing requirement (broadcast time ≪ election timeout) and the pre-vote and
// check-quorum guards exist so that this does not happen: once a majority follows one leader in
// a healed, calm network and no server holds a higher term, the servers that were cut off,
// paused or down come back as followers; their pre-votes are refused, and nothing may start an
// election.
//
// Judged in the settle phase only, where the kernel has healed every partition, stopped loss,
// duplicates, latency tails and buggify, resumed every paused node and restarted every crashed
// one. Before that, faults make elections legitimate. One fault may still act in it: an fsync
// error armed in the fault phase kills the process at its next fsync; a leader that dies so
// is no longer watched.
import type { ClusterView, Invariant, NodeId, Verdict } from '../sim/types.ts';
import { formatTime, type RaftInspect, raftObservation, serverState } from './raft-common.ts';
import { type PerGroupOptions, raftInvariantsPerGroup } from './raft-groups.ts';

interface Established {
  readonly leader: NodeId;
  readonly term: number;
  readonly sinceUs: number;
  /** The voters running when L won: one that dies later may take L's quorum with it. */
  readonly running: readonly NodeId[];
}

/**
 * In the settle phase, once a leader L of term t has won the healed cluster (a majority of its
 * voters follow it and no running server holds a higher term), no voter of L's configuration
 * starts a real election (a pre-vote is allowed: it moves no term) and L does not step down.
 * The watch starts again with the next leader when L is removed from the configuration, when
 * L's process or that of a voter running when L won dies (an fsync error armed in the fault
 * phase), or when a server restarts holding a higher term.
 */
export function leaderStaysWhileHealthy(
  options: { readonly electionTicks: number } & PerGroupOptions,
): Invariant {
  const [perGroup] = raftInvariantsPerGroup(
    () => [leaderStaysForOneGroup(options.electionTicks)],
    options,
  );
  return perGroup as Invariant;
}

/**
 * The leader that has won the healed cluster, if there is one: the only server that leads, no
 * running server of the group at a higher term (whose first message would depose it,
 * legitimately), and a majority of its voters (itself included) that follow it at its term and
 * heard from it within the last half election timeout. Those stay in its lease from then on (a
 * healthy leader heartbeats every few ticks), so they refuse every pre-vote. The rest — servers
 * cut off, restarted or paused until the settle phase — may still be pre-candidates: their
 * pre-votes are what the guards must refuse.
 */
function leaderOfHealedCluster(
  view: ClusterView,
  electionTicks: number,
): { leader: NodeId; state: RaftInspect } | undefined {
  let found: { leader: NodeId; state: RaftInspect } | undefined;
  let termMax = 0;
  for (const node of view.servers) {
    const state = serverState(view, node);
    if (state === undefined) {
      continue;
    }
    termMax = Math.max(termMax, state.term);
    if (state.role === 'leader') {
      if (found !== undefined) {
        return undefined; // two servers think they lead: a stale one has not heard yet
      }
      found = { leader: node, state };
    }
  }
  if (found === undefined || found.state.term !== termMax) {
    return undefined;
  }
  const { leader, state: leading } = found;
  let following = 0;
  for (const voter of leading.voters) {
    const state = voter === leader ? leading : serverState(view, voter);
    const heard =
      voter === leader ||
      (state?.role === 'follower' &&
        state.leader === leader &&
        2 * state.electionElapsedTicks <= electionTicks);
    if (state?.term === leading.term && heard) {
      following++;
    }
  }
  return following >= Math.floor(leading.voters.length / 2) + 1 ? found : undefined;
}

function leaderStaysForOneGroup(electionTicks: number): Invariant {
  let established: Established | undefined;

  const deposed = (view: ClusterView, what: string, atUs: number): Verdict => {
    const e = established as Established;
    return `${what} at ${formatTime(atUs)}, though since ${formatTime(e.sinceUs)} ${view.name(e.leader)} had led term ${e.term} in the settle phase, followed by a majority, with no server at a higher term and no partition, loss or pause: a healthy leader must not be deposed (Raft's timing requirement; pre-vote and check-quorum refuse a rejoining server)`;
  };

  return {
    name: 'leader-stays-while-healthy',
    observes: ['committed', 'campaign-started', 'stepped-down', 'restarted'],
    onObservation(record, view) {
      if (view.phase !== 'settle') {
        return undefined;
      }
      const observation = raftObservation(record);
      if (established === undefined) {
        // A leader's commit is a cheap moment to look (it has just heard from a quorum), and a
        // pre-vote's start the moment that matters: a rejoining server asks before it acts.
        const look =
          (observation.type === 'committed' && observation.leaderTerm !== null) ||
          (observation.type === 'campaign-started' && observation.preVote);
        if (look) {
          const found = leaderOfHealedCluster(view, electionTicks);
          if (found !== undefined) {
            established = {
              leader: found.leader,
              term: found.state.term,
              sinceUs: record.timeUs,
              running: found.state.voters.filter((voter) => serverState(view, voter) !== undefined),
            };
          }
        }
        return undefined;
      }
      if (observation.type === 'restarted' && observation.term > established.term) {
        established = undefined; // it was down when L won, and its term will depose L
        return undefined;
      }
      // A voter that ran when L won has died since (an fsync error armed in the fault phase
      // kills a process at its next fsync; raft seed 940617): L may have lost its quorum, and
      // check-quorum then rightly steps it down. Not judged; the next leader is watched afresh.
      const died = (e: Established) =>
        e.running.some((voter) => serverState(view, voter) === undefined) ||
        (observation.type === 'restarted' && e.running.includes(record.node));
      if (died(established)) {
        established = undefined;
        return undefined;
      }
      if (observation.type === 'stepped-down' && record.node === established.leader) {
        if (observation.reason === 'removed') {
          established = undefined; // its own removal: the next leader is watched afresh
          return undefined;
        }
        return deposed(
          view,
          `${view.name(record.node)} stepped down as leader of term ${observation.term} (${observation.reason})`,
          record.timeUs,
        );
      }
      if (
        observation.type === 'campaign-started' &&
        !observation.preVote &&
        observation.term > established.term
      ) {
        const leading = serverState(view, established.leader);
        if (leading?.role !== 'leader' || leading.term !== established.term) {
          // The leader is gone without a step-down: its process died on an fsync error armed
          // in the fault phase (the supervisor restarts it). An election is then legitimate.
          established = undefined;
          return undefined;
        }
        if (leading.voters.includes(record.node)) {
          return deposed(
            view,
            `${view.name(record.node)}, a voter, started an election for term ${observation.term}`,
            record.timeUs,
          );
        }
      }
      return undefined;
    },
  };
}
