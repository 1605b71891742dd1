// A controller: one member of the KRaft-style quorum that owns the cluster metadata. It holds
// a Raft group (systems/raft's component) replicating a MetadataStateMachine, and as leader:
//   - answers broker heartbeats with the metadata (when the broker's copy is older);
//   - registers restarted brokers and unfences caught-up ones, through the log;
//   - fences a broker whose heartbeats stopped for a session timeout (on its monotonic clock),
//     through the log, which moves leadership and shrinks ISRs;
//   - turns a partition leader's AlterPartition into a log entry and answers once applied.
// Heartbeat times are the leader's memory only: a new leader gives every broker a full session
// from the moment it took over, as KRaft does.
import type { NodeContext, NodeId, NodeProgram, Message as SimMessage } from '../../sim/types.ts';
import {
  planRaftOptions,
  RaftGroup,
  type RaftNodeOptions,
  type ClientReply as RaftReply,
} from '../raft/group.ts';
import type { PartitionStateObservation } from './contract.ts';
import {
  allPartitionsLayout,
  type ControllerReply,
  type ControllerRequest,
  type KafkaConfig,
  kafkaConfig,
} from './messages.ts';
import {
  encodeMetadataCommand,
  type MetadataCommand,
  type MetadataResult,
  MetadataStateMachine,
} from './metadata.ts';

const SESSION_CHECK_US = 50_000;
/** A proposal not answered in this long is forgotten (it may be retried). */
const PROPOSAL_TIMEOUT_US = 1_000_000;
const PROPOSALS_MAX = 256;

interface Proposal {
  key: string;
  startedUs: number;
  /** The broker waiting for an AlterPartition answer, with its request id. */
  waiter?: { broker: NodeId; id: number };
}

export class ControllerNode implements NodeProgram {
  readonly raft: RaftGroup;
  readonly metadata: MetadataStateMachine;
  private readonly config: KafkaConfig;
  private readonly lastHeartbeatUs = new Map<NodeId, number>();
  private leaderSinceUs = -1;
  private readonly proposals = new Map<string, Proposal>();
  private readonly proposing = new Set<string>();
  private nextProposal = 1;

  constructor(
    private readonly ctx: NodeContext,
    raftOptions: Partial<RaftNodeOptions> = {},
  ) {
    this.config = kafkaConfig(ctx.workload);
    this.metadata = new MetadataStateMachine({
      partitions: allPartitionsLayout(this.config, ctx.members('brokers')),
      uncleanElection: this.config.uncleanElection,
      // The protocol without leader epochs is the ZooKeeper-era one, restarts included.
      fenceOnRegister: this.config.leaderEpochs,
      eligibleLeaderReplicas: this.config.eligibleLeaderReplicas,
      minInsyncReplicas: this.config.minInsyncReplicas,
    });
    this.metadata.onLeaderChange = (partition, unclean, fromEligible) =>
      ctx.observe({
        type: 'kafka-leader-elected',
        key: partition.key,
        leader: partition.leader,
        leaderEpoch: partition.leaderEpoch,
        unclean,
        // Only when it happened, so that runs without eligible leader replicas see no change.
        ...(fromEligible ? { eligibleLeaderReplica: true } : {}),
      });
    this.metadata.onPartitionChange = (partition) =>
      ctx.observe({
        type: 'kafka-partition-state',
        key: partition.key,
        leader: partition.leader,
        leaderEpoch: partition.leaderEpoch,
        partitionEpoch: partition.partitionEpoch,
        isr: partition.isr,
      } satisfies PartitionStateObservation);
    this.raft = new RaftGroup(ctx, {
      id: 'metadata',
      peers: ctx.members(ctx.group),
      filePrefix: 'metadata/',
      stateMachine: this.metadata,
      // The plan's Raft knobs (sync marks, where the swarm draws media faults) apply here too.
      options: { ...raftOptions, ...planRaftOptions(ctx.workload) },
      onReply: (client, reply) => this.onRaftReply(client, reply),
    });
  }

  onStart(): void {
    this.raft.start();
    this.ctx.setTimer(SESSION_CHECK_US, 'sessions');
  }

  onSynced(syncId: number, ok: boolean): void {
    this.raft.onSynced(syncId, ok);
  }

  onTimer(tag: string): void {
    if (this.raft.onTimer(tag)) {
      return;
    }
    if (tag === 'sessions') {
      this.checkSessions();
      this.ctx.setTimer(SESSION_CHECK_US, 'sessions');
    }
  }

  private get leading(): boolean {
    return this.raft.running && this.raft.core.role === 'leader';
  }

  onMessage(from: NodeId, message: SimMessage): void {
    if (!this.raft.running) {
      // Refused to start (its metadata log is damaged): like a controller process that
      // exited, whose port refuses connections, it sends brokers on to another controller at
      // once — silence would hold a broker's heartbeats here until its session is fenced.
      if (message.type === 'ctl-heartbeat' || message.type === 'ctl-alter-partition') {
        this.reply(from, { type: 'ctl-not-leader', hint: null });
      }
      return;
    }
    if (message.type !== 'ctl-heartbeat' && message.type !== 'ctl-alter-partition') {
      this.raft.onMessage(from, message);
      return;
    }
    if (!this.leading) {
      this.reply(from, { type: 'ctl-not-leader', hint: this.raft.core.leader });
      return;
    }
    const request = message as unknown as ControllerRequest;
    if (request.type === 'ctl-heartbeat') {
      this.onHeartbeat(from, request);
      return;
    }
    const command: MetadataCommand = {
      op: 'alter-partition',
      key: request.key,
      leader: from,
      leaderEpoch: request.leaderEpoch,
      partitionEpoch: request.partitionEpoch,
      isr: request.isr,
    };
    // Refused against what is applied here, without a log entry: a request that would change
    // nothing (a fenced broker cannot be readmitted) would otherwise be proposed again and
    // again, and the metadata would never hold still.
    if (this.metadata.refusal(command) !== undefined) {
      this.reply(from, {
        type: 'ctl-alter-result',
        id: request.id,
        ok: false,
        partition: this.metadata.partitions.get(request.key) ?? null,
      });
      return;
    }
    this.propose(command, `alter:${request.key}:${from}:${request.id}`, {
      broker: from,
      id: request.id,
    });
  }

  private onHeartbeat(
    broker: NodeId,
    request: Extract<ControllerRequest, { type: 'ctl-heartbeat' }>,
  ): void {
    this.lastHeartbeatUs.set(broker, this.ctx.monotonic());
    const known = this.metadata.brokers.get(broker);
    if (known === undefined || known.session !== request.session) {
      this.propose(
        {
          op: 'register',
          broker,
          session: request.session,
          // Only when there is damage: the entries of every other registration stay as they were.
          ...((request.damaged ?? []).length > 0 ? { damaged: request.damaged } : {}),
        },
        `register:${broker}:${request.session}`,
      );
    } else if (known.fenced && request.version >= known.fencedAtVersion) {
      // Caught up with the metadata that fenced it: let it back in.
      this.propose(
        { op: 'unfence', broker, session: request.session },
        `unfence:${broker}:${request.session}`,
      );
    }
    const version = this.metadata.version;
    this.reply(broker, {
      type: 'ctl-heartbeat-ok',
      version,
      partitions: request.version < version ? [...this.metadata.partitions.values()] : null,
      fenced: known?.session !== request.session || known.fenced,
      session: request.session,
    });
  }

  private checkSessions(): void {
    if (!this.leading) {
      this.leaderSinceUs = -1;
      return;
    }
    const now = this.ctx.monotonic();
    if (this.leaderSinceUs < 0) {
      this.leaderSinceUs = now;
    }
    for (const [key, proposal] of this.proposals) {
      if (now - proposal.startedUs > PROPOSAL_TIMEOUT_US) {
        this.proposals.delete(key);
        this.proposing.delete(proposal.key);
      }
    }
    for (const registration of this.metadata.brokers.values()) {
      if (registration.fenced) {
        continue;
      }
      const heard = Math.max(
        this.lastHeartbeatUs.get(registration.broker) ?? -1,
        this.leaderSinceUs,
      );
      if (now - heard > this.config.sessionTimeoutUs) {
        this.ctx.log('fencing a broker whose session timed out', { broker: registration.broker });
        this.propose(
          { op: 'fence', broker: registration.broker, session: registration.session },
          `fence:${registration.broker}:${registration.session}`,
        );
      }
    }
  }

  private propose(command: MetadataCommand, dedupKey: string, waiter?: Proposal['waiter']): void {
    if (this.proposing.has(dedupKey) || this.proposals.size >= PROPOSALS_MAX) {
      return;
    }
    const id = `ctl${this.ctx.id}-${this.nextProposal++}`;
    this.proposing.add(dedupKey);
    this.proposals.set(id, {
      key: dedupKey,
      startedUs: this.ctx.monotonic(),
      ...(waiter === undefined ? {} : { waiter }),
    });
    this.raft.onMessage(this.ctx.id, {
      type: 'propose',
      id,
      data: encodeMetadataCommand(command),
    });
  }

  /** The Raft group's answers to the proposals this controller made. */
  private onRaftReply(_client: NodeId, reply: RaftReply): void {
    const proposal = this.proposals.get(reply.id);
    if (proposal === undefined) {
      return;
    }
    this.proposals.delete(reply.id);
    this.proposing.delete(proposal.key);
    const waiter = proposal.waiter;
    if (waiter === undefined) {
      return;
    }
    if (reply.type !== 'propose-ok') {
      return; // the broker times out and asks again, of the new leader
    }
    const result = reply.result as MetadataResult;
    this.reply(waiter.broker, {
      type: 'ctl-alter-result',
      id: waiter.id,
      ok: result.ok,
      partition: result.partition ?? null,
    });
  }

  private reply(to: NodeId, reply: ControllerReply): void {
    const size = reply.type === 'ctl-heartbeat-ok' ? 64 + 48 * (reply.partitions?.length ?? 0) : 48;
    this.ctx.send(to, reply as unknown as SimMessage, size);
  }

  inspect(): unknown {
    return this.raft.inspect();
  }
}
