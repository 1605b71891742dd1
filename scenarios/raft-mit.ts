// Every test of the MIT 6.5840 Raft lab (3A–3D, src/raft/test_test.go) as a named scenario:
// the same cluster, the same faults, the same assertions, in the DSL of raft-mit-dsl.ts. Each
// seed draws the test's random choices (which server to cut, how many commands, how long to
// sleep) afresh, so every scenario is fuzzable. The Raft safety invariants run throughout;
// the churn tests add liveness after the settle phase. Where a port differs from the Go test
// (a leader is made by a forced campaign; indexes become positions among applied commands,
// since this Raft also logs a no-op per term), the DSL's header says why.
import { raftLivenessInvariant, raftSafetyInvariants, raftSometimes } from '../invariants/raft.ts';
import { registerScenario } from '../sim/scenario.ts';
import type { FaultKind, ObservationRecord } from '../sim/types.ts';
import { RAFT_VARIANTS, raftGroups } from '../systems/raft/program.ts';
import {
  ELECTION_TIMEOUT_MS,
  ids,
  MIT_CHECKS,
  MIT_RAFT_OPTIONS,
  MitScript,
  type Network,
  networkKnobs,
  SNAPSHOT_INTERVAL,
} from './raft-mit-dsl.ts';

const SECOND = 1_000_000;

interface MitTest {
  name: string;
  description: string;
  servers: number;
  network?: Network;
  /** Workload clients proposing throughout (the churn tests' three clients). */
  clients?: number;
  snapshots?: boolean;
  liveness?: boolean;
  sometimes?: (keyof typeof raftSometimes)[];
  build(s: MitScript): void;
}

function registerMit(test: MitTest): void {
  const network = test.network ?? 'reliable';
  const build = (seed: number) => {
    const script = new MitScript(seed, test.servers, network);
    test.build(script);
    return script;
  };
  const nominal = build(0);
  const crashes = nominal.faults.some((fault) => fault.kind === 'crash');
  const eligible: FaultKind[] = ['partition'];
  if (crashes) {
    eligible.push('crash');
  }
  if (network !== 'reliable') {
    eligible.push('drop', 'latency-tail');
  }
  const sometimes: Record<string, (record: ObservationRecord) => boolean> = {};
  for (const name of test.sometimes ?? []) {
    sometimes[name] = raftSometimes[name] as (record: ObservationRecord) => boolean;
  }
  const snapshotOptions = test.snapshots
    ? { snapshotEveryEntries: SNAPSHOT_INTERVAL, logRewriteBytes: 1024 }
    : {};
  registerScenario({
    name: test.name,
    description: test.description,
    system: 'raft',
    durationUs: nominal.durationUs(),
    settleUs: SECOND,
    faults: { eligible, swarm: false },
    workload: {},
    variants: RAFT_VARIANTS,
    groups: raftGroups(test.servers, test.clients ?? 0, {
      ...MIT_RAFT_OPTIONS,
      ...snapshotOptions,
    }),
    invariants: (plan) => [
      ...raftSafetyInvariants(),
      ...(test.liveness
        ? [
            raftLivenessInvariant({
              settleStartUs: plan.durationUs,
              commitWithinUs: 3 * SECOND,
            }),
          ]
        : []),
    ],
    sometimes,
    checks: MIT_CHECKS,
    plan: (seed, base) => build(seed).plan(base, networkKnobs(network), SECOND),
  });
}

// ---------------------------------------------------------------------------------------
// 3A: leader election

registerMit({
  name: 'raft-3a-initial-election',
  description:
    'MIT TestInitialElection3A: 3 servers, no faults; a leader is elected, terms agree (≥ 1) and a leader remains.',
  servers: 3,
  build(s) {
    s.awaitLeader();
    s.sleep(50);
    s.checkTerms();
    s.sleep(2 * ELECTION_TIMEOUT_MS);
    s.checkTerms();
    s.awaitLeader();
  },
});

registerMit({
  name: 'raft-3a-re-election',
  description:
    'MIT TestReElection3A: the leader is cut off, rejoins, then a leader and one more leave; a new leader each time, none without a quorum.',
  servers: 3,
  build(s) {
    s.awaitLeader();
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(leader1);
    s.awaitLeader();
    s.connect(leader1);
    s.awaitLeader();
    const leader2 = s.lead(s.pick(s.all()));
    s.disconnect(leader2, s.plus(leader2, 1));
    s.sleep(2 * ELECTION_TIMEOUT_MS);
    s.checkNoLeader();
    s.connect(s.plus(leader2, 1));
    s.awaitLeader();
    s.connect(leader2);
    s.awaitLeader();
  },
});

registerMit({
  name: 'raft-3a-many-elections',
  description:
    'MIT TestManyElections3A: 7 servers, 9 rounds of cutting off 3 random servers; one leader among the rest every round.',
  servers: 7,
  build(s) {
    s.awaitLeader();
    for (let round = 1; round < 10; round++) {
      const cut = [s.pick(s.all()), s.pick(s.all()), s.pick(s.all())];
      s.disconnect(...cut);
      s.awaitLeader();
      s.connect(...cut);
    }
    s.awaitLeader();
  },
});

// ---------------------------------------------------------------------------------------
// 3B: log replication

registerMit({
  name: 'raft-3b-basic-agree',
  description:
    'MIT TestBasicAgree3B: 3 servers, 3 commands; nothing applies before it is proposed, each lands next in order on every server.',
  servers: 3,
  build(s) {
    const commands = ['c100', 'c200', 'c300'];
    for (const [index, id] of commands.entries()) {
      s.checkApplied(commands.slice(0, index));
      s.one(id, 3);
    }
    s.checkApplied(commands);
  },
});

registerMit({
  name: 'raft-3b-rpc-bytes',
  description:
    'MIT TestRPCBytes3B: 10 commands of 5 KB; bytes sent stay within servers × payload + 50 KB, so each entry goes to each peer about once.',
  servers: 3,
  build(s) {
    s.one('c99', 3);
    s.mark('payload');
    const big = ids('b', 10);
    for (const id of big) {
      s.one(id, 3, 5000);
    }
    s.check(`at most ${3 * 10 * 5000 + 50_000} bytes since payload`);
    s.checkApplied(['c99', ...big]);
  },
});

registerMit({
  name: 'raft-3b-follower-failure',
  description:
    'MIT TestFollowerFailure3B: followers are cut off one at a time; two servers still agree, and a command proposed with no majority never commits.',
  servers: 3,
  build(s) {
    s.one('c101', 3);
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(s.plus(leader1, 1));
    s.one('c102', 2);
    s.sleep(ELECTION_TIMEOUT_MS);
    s.one('c103', 2);
    const leader2 = s.lead(s.pick(s.connected()));
    s.disconnect(s.plus(leader2, 1), s.plus(leader2, 2));
    s.start(leader2, 'c104');
    s.sleep(2 * ELECTION_TIMEOUT_MS);
    s.checkCommittedNowhere('c104');
  },
});

registerMit({
  name: 'raft-3b-leader-failure',
  description:
    'MIT TestLeaderFailure3B: successive leaders are cut off; the remaining pair elects and commits, and with no majority nothing commits.',
  servers: 3,
  build(s) {
    s.one('c101', 3);
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(leader1);
    s.one('c102', 2);
    s.sleep(ELECTION_TIMEOUT_MS);
    s.one('c103', 2);
    const leader2 = s.lead(s.pick(s.connected()));
    s.disconnect(leader2);
    for (const node of s.all()) {
      s.start(node, 'c104');
    }
    s.sleep(2 * ELECTION_TIMEOUT_MS);
    s.checkCommittedNowhere('c104');
  },
});

registerMit({
  name: 'raft-3b-fail-agree',
  description:
    'MIT TestFailAgree3B: a follower misses 4 commits while cut off, rejoins and catches up; all 3 agree on new commands.',
  servers: 3,
  build(s) {
    s.one('c101', 3);
    const leader = s.lead(s.pick(s.all()));
    s.disconnect(s.plus(leader, 1));
    s.one('c102', 2);
    s.one('c103', 2);
    s.sleep(ELECTION_TIMEOUT_MS);
    s.one('c104', 2);
    s.one('c105', 2);
    s.connect(s.plus(leader, 1));
    s.one('c106', 3);
    s.sleep(ELECTION_TIMEOUT_MS);
    s.one('c107', 3);
  },
});

registerMit({
  name: 'raft-3b-fail-no-agree',
  description:
    'MIT TestFailNoAgree3B: 5 servers, 3 followers cut off; the leader’s command does not commit, and after healing the next command lands right after it or in its place.',
  servers: 5,
  build(s) {
    s.one('c10', 5);
    const leader = s.lead(s.pick(s.all()));
    const followers = [1, 2, 3].map((k) => s.plus(leader, k));
    s.disconnect(...followers);
    s.start(leader, 'c20');
    s.sleep(2 * ELECTION_TIMEOUT_MS);
    s.checkCommittedNowhere('c20');
    s.connect(...followers);
    const leader2 = s.lead(s.pick(s.all()));
    s.start(leader2, 'c30');
    s.one('c1000', 5);
    // MIT: index2 is 2 or 3 — the majority may have forgotten c20.
    s.checkApplied(['c10', 'c20?', 'c30', 'c1000']);
  },
});

registerMit({
  name: 'raft-3b-concurrent-starts',
  description:
    'MIT TestConcurrentStarts3B: 5 commands proposed at once to one leader in one term; all 5 commit on every server.',
  servers: 3,
  build(s) {
    const leader = s.lead(s.pick(s.all()));
    s.start(leader, 'c1');
    const concurrent = ids('c10', 5, 0);
    for (const id of concurrent) {
      s.start(leader, id);
    }
    s.sleep(ELECTION_TIMEOUT_MS);
    for (const id of concurrent) {
      s.expectCommitted(id, 3);
    }
    s.checkTerms();
  },
});

registerMit({
  name: 'raft-3b-rejoin',
  description:
    'MIT TestRejoin3B: a cut-off leader takes 3 commands that cannot commit; after a new leader commits and is cut off, the old one rejoins and its entries are overwritten.',
  servers: 3,
  build(s) {
    s.one('c101', 3);
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(leader1);
    for (const id of ['c102', 'c103', 'c104']) {
      s.start(leader1, id);
    }
    s.one('c103b', 2);
    const leader2 = s.lead(s.pick(s.connected()));
    s.disconnect(leader2);
    s.connect(leader1);
    s.one('c104b', 2);
    s.connect(leader2);
    s.one('c105', 3);
    for (const id of ['c102', 'c103', 'c104']) {
      s.checkCommittedNowhere(id);
    }
  },
});

registerMit({
  name: 'raft-3b-backup',
  description:
    'MIT TestBackup3B: 5 servers; two minorities each take 50 uncommittable entries while majorities commit 50; leaders back up quickly over long divergent logs (at most 128 kB to repair them).',
  servers: 5,
  build(s) {
    s.one('x0', 5);
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(s.plus(leader1, 2), s.plus(leader1, 3), s.plus(leader1, 4));
    for (const id of ids('a', 50)) {
      s.start(leader1, id);
    }
    s.sleep(ELECTION_TIMEOUT_MS / 2);
    s.disconnect(leader1, s.plus(leader1, 1));
    s.connect(s.plus(leader1, 2), s.plus(leader1, 3), s.plus(leader1, 4));
    s.oneSeries(ids('b', 50), 3);
    const leader2 = s.lead(s.pick(s.connected()));
    let other = s.plus(leader1, 2);
    if (leader2 === other) {
      other = s.plus(leader2, 1);
    }
    s.disconnect(other);
    for (const id of ids('c', 50)) {
      s.start(leader2, id);
    }
    s.sleep(ELECTION_TIMEOUT_MS / 2);
    s.disconnect(...s.all());
    s.connect(leader1, s.plus(leader1, 1), other);
    s.mark('repair');
    s.oneSeries(ids('d', 50), 3);
    s.connect(...s.all());
    s.one('e', 5);
    // "Quickly", as bytes (MIT bounds it by the test's time instead, which a simulated network
    // cannot miss): with the conflict-term hint each divergent follower is repaired in a round
    // trip or two. Measured (2026-12-07): the correct leader sends 98-112 kB here over 500
    // seeds; one that backs up one entry per rejection resends a batch at every step,
    // 146-207 kB over 200.
    s.check('at most 128000 bytes since repair');
    s.checkCommittedNowhere('a1');
    s.checkCommittedNowhere('c1');
  },
});

registerMit({
  name: 'raft-3b-count',
  description:
    'MIT TestCount3B: message budgets (an RPC is a request and its reply): electing ≤ 30 RPCs, 12 entries ≤ 42, 1 s idle ≤ 60.',
  servers: 3,
  build(s) {
    s.mark('start');
    // MIT's checkOneLeader returns after its first ~0.5 s poll; count up to 1 s.
    s.sleep(ELECTION_TIMEOUT_MS);
    s.check(`at most ${2 * 30} messages since start`);
    s.check('at least 2 messages since start');
    const leader = s.lead(s.pick(s.all()));
    s.mark('entries');
    const commands = ids('c', 12);
    for (const id of commands) {
      s.start(leader, id);
    }
    // All applied on every server; followers learn the commit on the next heartbeat.
    s.sleep(300);
    for (const id of commands) {
      s.expectCommitted(id, 3);
    }
    s.checkTerms();
    s.check(`at most ${2 * (10 + 1 + 3) * 3} messages since entries`);
    s.mark('idle');
    s.sleep(ELECTION_TIMEOUT_MS);
    s.check(`at most ${2 * 3 * 20} messages since idle`);
  },
});

// ---------------------------------------------------------------------------------------
// 3C: persistence

registerMit({
  name: 'raft-3c-persist1',
  description:
    'MIT TestPersist13C: every server restarts, then the leader, then a follower during commits; commits continue, so term, vote and log were persisted.',
  servers: 3,
  build(s) {
    s.one('c11', 3);
    for (const node of s.all()) {
      s.start1(node);
    }
    s.connect(...s.all());
    s.one('c12', 3);
    const leader1 = s.lead(s.pick(s.all()));
    s.disconnect(leader1);
    s.start1(leader1);
    s.connect(leader1);
    s.one('c13', 3);
    const leader2 = s.lead(s.pick(s.all()));
    s.disconnect(leader2);
    s.one('c14', 2);
    s.start1(leader2);
    s.connect(leader2);
    s.sleep(ELECTION_TIMEOUT_MS);
    s.expectCommitted('c14', 3);
    const i3 = s.plus(s.lead(s.pick(s.all())), 1);
    s.disconnect(i3);
    s.one('c15', 2);
    s.start1(i3);
    s.connect(i3);
    s.one('c16', 3);
  },
});

registerMit({
  name: 'raft-3c-persist2',
  description:
    'MIT TestPersist23C: 5 servers, 5 rounds of cutting off and restarting shifting subsets; 3 live servers keep committing and all 5 agree at the end.',
  servers: 5,
  build(s) {
    let index = 1;
    const next = () => `c${10 + index++}`;
    for (let round = 0; round < 5; round++) {
      s.one(next(), 5);
      const leader1 = s.lead(s.pick(s.all()));
      const at = (k: number) => s.plus(leader1, k);
      s.disconnect(at(1), at(2));
      s.one(next(), 3);
      s.disconnect(at(0), at(3), at(4));
      s.start1(at(1));
      s.start1(at(2));
      s.connect(at(1), at(2));
      s.sleep(ELECTION_TIMEOUT_MS);
      s.start1(at(3));
      s.connect(at(3));
      s.one(next(), 3);
      s.connect(at(4), at(0));
    }
    s.one('c1000', 5);
  },
});

registerMit({
  name: 'raft-3c-persist3',
  description:
    'MIT TestPersist33C: a follower is cut off, then the leader and the other follower crash; the cut-off one rejoins and the leader restarts; 2 then 3 agree.',
  servers: 3,
  build(s) {
    s.one('c101', 3);
    const leader = s.lead(s.pick(s.all()));
    s.disconnect(s.plus(leader, 2));
    s.one('c102', 2);
    s.crash(leader);
    s.crash(s.plus(leader, 1));
    s.connect(s.plus(leader, 2));
    s.start1(leader);
    s.connect(leader);
    s.one('c103', 2);
    s.start1(s.plus(leader, 1));
    s.connect(s.plus(leader, 1));
    s.one('c104', 3);
  },
});

/**
 * MIT's Figure 8 loops: propose on every server, let the leader live 0–13 ms (now and then up
 * to 500 ms), then fail it; keep at least 3 servers up. The leader is the node the round made
 * campaign, so a round's failure hits the leader whenever that campaign won.
 */
function figure8Rounds(s: MitScript, rounds: number, fail: (node: number) => void): void {
  let command = 0;
  for (let round = 0; round < rounds; round++) {
    const leader = s.pick(s.connected());
    s.campaign(leader);
    s.sleep(10 + s.random.int(6));
    for (const node of s.all()) {
      s.start(node, `f${++command}`);
    }
    s.sleep(s.random.chance(0.1) ? s.random.int(ELECTION_TIMEOUT_MS / 2) : s.random.int(13));
    fail(leader);
  }
}

registerMit({
  name: 'raft-3c-figure8',
  description:
    'MIT TestFigure83C: 5 servers; leaders crash a few ms after taking a command, random servers restart to keep 3 up; no apply disagreement, and all 5 agree at the end.',
  servers: 5,
  sometimes: ['a leader was deposed'],
  build(s) {
    s.one('f0', 1);
    figure8Rounds(s, 100, (leader) => {
      s.crash(leader);
      if (s.upCount() < 3) {
        const node = s.pick(s.all());
        if (!s.isUp(node)) {
          s.start1(node);
          s.connect(node);
        }
      }
    });
    for (const node of s.all()) {
      if (!s.isUp(node)) {
        s.start1(node);
        s.connect(node);
      }
    }
    s.one('f-final', 5);
  },
});

registerMit({
  name: 'raft-3c-unreliable-agree',
  description:
    'MIT TestUnreliableAgree3C: 5 servers on an unreliable network, 49 rounds of 5 concurrent commands; everything commits, and all 5 agree once the network is reliable.',
  servers: 5,
  network: 'unreliable',
  build(s) {
    s.awaitLeader();
    let endUs = s.t;
    for (let round = 1; round < 50; round++) {
      for (let j = 0; j < 4; j++) {
        endUs = Math.max(endUs, s.oneAt(`c${100 * round + j}`, 1, s.t));
      }
      endUs = Math.max(endUs, s.oneAt(`c${round}`, 1, s.t));
      s.sleep(100);
    }
    s.t = Math.max(s.t, endUs);
    s.settle();
    s.one('c-final', 5);
  },
});

registerMit({
  name: 'raft-3c-figure8-unreliable',
  description:
    'MIT TestFigure8Unreliable3C: as Figure 8, on an unreliable network with long reordering, and leaders are cut off (half the time) instead of crashed.',
  servers: 5,
  network: 'long-reordering',
  sometimes: ['a leader was deposed'],
  build(s) {
    s.one('f0', 1);
    figure8Rounds(s, 150, (leader) => {
      if (s.random.chance(0.5)) {
        s.disconnect(leader);
      }
      if (s.connected().length < 3) {
        const node = s.pick(s.all());
        if (!s.isConnected(node)) {
          s.connect(node);
        }
      }
    });
    // MIT's last one() runs on the still-unreliable network with retries for 10 s; here the
    // network calms first (settle) so the final agreement is judged, not the weather.
    s.settle();
    s.one('f-final', 5);
  },
});

function churn(s: MitScript): void {
  for (let round = 0; round < 20; round++) {
    if (s.random.chance(0.2)) {
      s.disconnect(s.pick(s.all()));
    }
    if (s.random.chance(0.5)) {
      const node = s.pick(s.all());
      if (!s.isUp(node)) {
        s.start1(node);
      }
      s.connect(node);
    }
    if (s.random.chance(0.2)) {
      const node = s.pick(s.all());
      if (s.isUp(node)) {
        s.crash(node);
      }
    }
    s.sleep((ELECTION_TIMEOUT_MS * 7) / 10);
  }
  s.sleep(ELECTION_TIMEOUT_MS);
  s.settle();
  s.sleep(ELECTION_TIMEOUT_MS);
  s.one('final', 5);
}

registerMit({
  name: 'raft-3c-reliable-churn',
  description:
    'MIT TestReliableChurn3C: 3 clients propose while servers are cut off, crash and restart at random for 20 rounds; no value a client saw committed is lost.',
  servers: 5,
  clients: 3,
  liveness: true,
  sometimes: ['a leader was deposed'],
  build: churn,
});

registerMit({
  name: 'raft-3c-unreliable-churn',
  description:
    'MIT TestUnreliableChurn3C: the churn test on an unreliable network; no value a client saw committed is lost.',
  servers: 5,
  clients: 3,
  network: 'unreliable',
  liveness: true,
  sometimes: ['a leader was deposed'],
  build: churn,
});

// ---------------------------------------------------------------------------------------
// 3D: snapshots

/** MIT's persisted Raft state bound in snapcommon. */
const MAX_LOG_SIZE = 2000;

/** MIT's snapcommon: 30 rounds of commands on a leader while a victim is cut off or crashed. */
function snapcommon(disconnect: boolean, crash: boolean) {
  return (s: MitScript) => {
    let command = 0;
    const next = () => `s${++command}`;
    s.one(next(), 3);
    let leader1 = s.lead(s.pick(s.all()));
    for (let round = 0; round < 30; round++) {
      let victim = s.plus(leader1, 1);
      let sender = leader1;
      if (round % 3 === 1) {
        sender = s.plus(leader1, 1);
        victim = leader1;
      }
      if (disconnect) {
        s.disconnect(victim);
        s.one(next(), 2);
      }
      if (crash) {
        s.crash(victim);
        s.one(next(), 2);
      }
      // Perhaps enough to get a snapshot; a sender that no longer leads ignores them.
      const count = SNAPSHOT_INTERVAL / 2 + s.random.int(SNAPSHOT_INTERVAL);
      for (let index = 0; index < count; index++) {
        s.start(sender, next());
      }
      s.one(next(), disconnect || crash ? 2 : 3);
      s.check(`raft.log under ${MAX_LOG_SIZE} bytes on every server`);
      if (disconnect) {
        s.connect(victim);
        s.one(next(), 3);
        leader1 = s.lead(s.pick(s.all()));
      }
      if (crash) {
        s.start1(victim);
        s.connect(victim);
        s.one(next(), 3);
        leader1 = s.lead(s.pick(s.all()));
      }
    }
  };
}

registerMit({
  name: 'raft-3d-snapshot-basic',
  description:
    'MIT TestSnapshotBasic3D: 3 servers snapshot every 10 applies over 30 rounds; the persisted log stays under 2000 bytes.',
  servers: 3,
  snapshots: true,
  build: snapcommon(false, false),
});

registerMit({
  name: 'raft-3d-snapshot-install',
  description:
    'MIT TestSnapshotInstall3D: snapcommon with a victim cut off each round; it catches up through InstallSnapshot.',
  servers: 3,
  snapshots: true,
  sometimes: ['a snapshot was installed'],
  build: snapcommon(true, false),
});

registerMit({
  name: 'raft-3d-snapshot-install-unreliable',
  description:
    'MIT TestSnapshotInstallUnreliable3D: snapshot install with a cut-off victim on an unreliable network.',
  servers: 3,
  network: 'unreliable',
  snapshots: true,
  sometimes: ['a snapshot was installed'],
  build: snapcommon(true, false),
});

registerMit({
  name: 'raft-3d-snapshot-install-crash',
  description:
    'MIT TestSnapshotInstallCrash3D: the victim crashes each round and restarts from snapshot plus log tail, then catches up.',
  servers: 3,
  snapshots: true,
  sometimes: ['a snapshot was installed'],
  build: snapcommon(false, true),
});

registerMit({
  name: 'raft-3d-snapshot-install-unreliable-crash',
  description: 'MIT TestSnapshotInstallUnCrash3D: the crashing victim on an unreliable network.',
  servers: 3,
  network: 'unreliable',
  snapshots: true,
  sometimes: ['a snapshot was installed'],
  build: snapcommon(false, true),
});

registerMit({
  name: 'raft-3d-snapshot-all-crash',
  description:
    'MIT TestSnapshotAllCrash3D: all 3 servers crash and restart 5 times; the next command lands after the last, so state never regresses.',
  servers: 3,
  snapshots: true,
  build(s) {
    let command = 0;
    const next = () => `s${++command}`;
    s.one(next(), 3);
    for (let round = 0; round < 5; round++) {
      const count = SNAPSHOT_INTERVAL / 2 + s.random.int(SNAPSHOT_INTERVAL);
      s.oneSeries(
        Array.from({ length: count }, () => next()),
        3,
      );
      const before = next();
      s.one(before, 3);
      for (const node of s.all()) {
        s.crash(node);
      }
      for (const node of s.all()) {
        s.start1(node);
        s.connect(node);
      }
      const after = next();
      s.one(after, 3);
      s.check(`${before} then ${after} on every running server`);
    }
  },
});

registerMit({
  name: 'raft-3d-snapshot-init',
  description:
    'MIT TestSnapshotInit3D: snapshot, crash all, one command, crash all, one command; persisting after a restart keeps the snapshot.',
  servers: 3,
  snapshots: true,
  build(s) {
    const commands = ids('s', SNAPSHOT_INTERVAL + 2);
    s.one(commands[0] as string, 3);
    s.oneSeries(commands.slice(1), 3);
    const crashAll = () => {
      for (const node of s.all()) {
        s.crash(node);
      }
      for (const node of s.all()) {
        s.start1(node);
        s.connect(node);
      }
    };
    crashAll();
    s.one('t1', 3);
    crashAll();
    s.one('t2', 3);
    s.checkApplied([...commands, 't1', 't2']);
  },
});
