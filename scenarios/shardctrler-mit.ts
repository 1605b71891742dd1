// Ports of MIT 6.5840's shardctrler tests (../shared/reference/peer-suites.md §1.4) as
// scripted scenarios: three controller servers on the lab's Raft and administrators whose
// scripts are the tests' Join/Leave/Move/Query calls, each Query carrying the check the test
// makes on what it returned (check(), check_same_config(), the minimal-transfer loops). The
// checks are judged at the end by invariants/shardctrler.ts, beside balance and minimal
// moves on every configuration any replica makes, and Raft's safety for the group.
//   shardctrler-basic          TestBasic: leave/join, historical queries while each server
//                              in turn is down, Move, concurrent leave/join by 10 clients,
//                              minimal transfers after joins and after leaves
//   shardctrler-multi          TestMulti: the same with multi-group Joins and Leaves, and
//                              the same newest configuration after the leader is killed
//   shardctrler-minimal-again  TestMinimalAgain1
// MIT's servers are named strings; here a gid's servers are empty (no replica group runs).
import { raftSafetyInvariants, serverState } from '../invariants/raft.ts';
import { ctrlerInvariants } from '../invariants/shardctrler.ts';
import { registerScenario } from '../sim/scenario.ts';
import type { FaultEvent, NodeId, ScriptStep, WorkloadValue } from '../sim/types.ts';
import {
  type AdminCheck,
  type AdminOp,
  type AdminStep,
  adminScriptKey,
} from '../systems/shardkv/admin.ts';
import { NSHARDS } from '../systems/shardkv/config.ts';
import { CTRLER_GROUP, ctrlerAdmin, ctrlerServer } from '../systems/shardkv/program.ts';
import { CTRLER_VARIANTS } from '../systems/shardkv/types.ts';
import { MIT_RAFT_OPTIONS } from './raft-mit-dsl.ts';

const MS = 1000;
const SECOND = 1_000_000;
const CTRLERS = 3;
/** Steps of one script are this far apart at least (each also waits for the one before). */
const GAP_US = 50 * MS;
const NPARA = 10;

/** An administrator's script, written as the test's calls in order. */
class Script {
  readonly steps: AdminStep[] = [];
  constructor(private atUs: number) {}

  /** Later steps not before `atUs`. */
  at(atUs: number): this {
    this.atUs = Math.max(this.atUs, atUs);
    return this;
  }

  get timeUs(): number {
    return this.atUs;
  }

  private add(op: AdminOp, label?: string, check?: AdminCheck): this {
    this.steps.push({
      atUs: this.atUs,
      op,
      ...(label === undefined ? {} : { label }),
      ...(check === undefined ? {} : { check }),
    });
    this.atUs += GAP_US;
    return this;
  }

  join(...gids: number[]): this {
    return this.add({ f: 'join', gids });
  }
  leave(...gids: number[]): this {
    return this.add({ f: 'leave', gids });
  }
  move(shard: number, gid: number): this {
    return this.add({ f: 'move', shard, gid });
  }
  query(num: number, label?: string, check?: AdminCheck): this {
    return this.add({ f: 'query', num }, label, check);
  }
  /** MIT's check(t, groups, ck): Query(-1) has exactly these groups, valid and balanced. */
  check(groups: number[], label?: string, extra: AdminCheck = {}): this {
    return this.query(-1, label, { groups, ...extra });
  }
}

function workloadOf(scripts: Script[]): Record<string, WorkloadValue> {
  const workload: Record<string, WorkloadValue> = {};
  for (const [index, script] of scripts.entries()) {
    workload[adminScriptKey(index)] = JSON.stringify(script.steps);
  }
  return workload;
}

const range = (count: number, from = 0) => Array.from({ length: count }, (_, i) => from + i);

interface Port {
  name: string;
  description: string;
  durationUs: number;
  scripts: Script[];
  faults?: FaultEvent[];
  script?: ScriptStep[];
}

function definePort(port: Port): void {
  registerScenario({
    name: port.name,
    description: port.description,
    system: 'shardkv',
    groups: [
      {
        name: CTRLER_GROUP,
        size: CTRLERS,
        prefix: 'ctrl',
        program: ctrlerServer({ ...MIT_RAFT_OPTIONS, snapshotEveryEntries: 20 }),
      },
      {
        name: 'admins',
        size: port.scripts.length,
        prefix: 'a',
        client: true,
        program: ctrlerAdmin(),
      },
    ],
    durationUs: port.durationUs,
    settleUs: 2 * SECOND,
    faults: { eligible: [], swarm: false },
    workload: workloadOf(port.scripts),
    variants: CTRLER_VARIANTS,
    invariants: (plan) => [...raftSafetyInvariants(), ...ctrlerInvariants(plan.durationUs)],
    sometimes: {
      'a configuration was made': (record) => record.observation.type === 'ctrl-config-made',
    },
    checks: {
      'ctrl1 leads': (view) =>
        serverState(view, 0)?.role === 'leader'
          ? undefined
          : 'ctrl1 did not become leader when told to campaign',
    },
    plan: (_seed, base) => ({
      ...base,
      faults: (port.faults ?? []).map((fault) => ({ ...fault })),
      script: (port.script ?? []).map((step) => ({ ...step })),
    }),
  });
}

/** Historical queries: each server in turn is down while configurations 0…last are queried. */
function historical(main: Script, last: number, labels: (num: number) => string): FaultEvent[] {
  const faults: FaultEvent[] = [];
  for (const server of range(CTRLERS)) {
    const downUs = main.timeUs + 200 * MS;
    faults.push({ atUs: downUs, kind: 'crash', node: server as NodeId });
    main.at(downUs + 600 * MS);
    for (const num of range(last + 1)) {
      main.query(num, undefined, { sameAs: labels(num) });
    }
    faults.push({ atUs: main.timeUs + 100 * MS, kind: 'restart', node: server as NodeId });
    main.at(main.timeUs + 300 * MS);
  }
  return faults;
}

/** Move: each of the first half of the shards to gid a, the rest to b, one Move at a time. */
function moves(main: Script, a: number, b: number): void {
  main.join(a).join(b);
  for (const shard of range(NSHARDS)) {
    main.query(-1, `before-move-${shard}`);
    main.move(shard, shard < NSHARDS / 2 ? a : b);
    main.query(-1, undefined, { newerThan: `before-move-${shard}` });
  }
  main.query(-1, undefined, {
    shards: range(NSHARDS).map((shard) => (shard < NSHARDS / 2 ? a : b)),
  });
  main.leave(a).leave(b);
}

/** Concurrent leave/join: 10 clients each join gid+1000 and gid, then leave gid+1000. */
function concurrent(main: Script, startUs: number, multi: boolean): Script[] {
  const gids = range(NPARA).map((i) => 100 + 10 * i);
  const helpers = gids.map((gid) => {
    const helper = new Script(startUs);
    return multi
      ? helper.join(gid, gid + 1000).leave(gid + 1000)
      : helper
          .join(gid + 1000)
          .join(gid)
          .leave(gid + 1000);
  });
  main.at(startUs + 3 * SECOND).check(gids);
  return helpers;
}

/** Minimal transfers after joins and after leaves (several groups at once when multi). */
function minimal(main: Script, existing: number[], multi: boolean): void {
  const added = range(5, NPARA + 1);
  main.query(-1, 'before-joins');
  if (multi) {
    main.join(...added);
  } else {
    for (const gid of added) {
      main.join(gid);
    }
  }
  main.check([...existing, ...added], 'after-joins', {
    joinedSince: { from: 'before-joins', gids: added },
  });
  if (multi) {
    main.leave(...added);
  } else {
    for (const gid of added) {
      main.leave(gid);
    }
  }
  main.check(existing, undefined, { leftSince: { from: 'after-joins', gids: added } });
}

// TestBasic.
{
  const main = new Script(300 * MS);
  main.check([], 'c0');
  main.join(1).check([1], 'c1');
  main.join(2).check([1, 2], 'c2');
  main.join(2).check([1, 2], 'c3'); // joining a known group again makes a new configuration
  main.leave(1).check([2], 'c4');
  main.leave(2).check([], 'c5');
  const faults = historical(main, 5, (num) => `c${num}`);
  moves(main, 3, 4);
  const helpers = concurrent(main, main.timeUs + 200 * MS, false);
  minimal(
    main,
    range(NPARA).map((i) => 100 + 10 * i),
    false,
  );
  definePort({
    name: 'shardctrler-basic',
    description:
      'MIT shardctrler TestBasic: leave/join, historical queries with each server down in turn, Move, concurrent leave/join by 10 clients, minimal transfers after joins and leaves.',
    durationUs: main.timeUs + SECOND,
    scripts: [main, ...helpers],
    faults,
  });
}

// TestMulti.
{
  const main = new Script(300 * MS);
  main.check([], 'c0');
  main.join(1, 2, 3).check([1, 2, 3], 'c1');
  main.join(4, 5).check([1, 2, 3, 4, 5], 'c2');
  main.leave(1, 3).check([2, 4, 5], 'c3');
  main.leave(2, 4, 5).check([], 'c4');
  const faults = historical(main, 4, (num) => `c${num}`);
  const helpers = concurrent(main, main.timeUs + 200 * MS, true);
  minimal(
    main,
    range(NPARA).map((i) => 100 + 10 * i),
    true,
  );
  // Check Same config on servers: make ctrl1 lead, query, kill it, query the new leader.
  const campaignUs = main.timeUs + 300 * MS;
  main.at(campaignUs + 600 * MS).query(-1, 'before-kill');
  const killUs = main.timeUs + 100 * MS;
  main.at(killUs + 1500 * MS).query(-1, undefined, { sameAs: 'before-kill' });
  definePort({
    name: 'shardctrler-multi',
    description:
      'MIT shardctrler TestMulti: multi-group Join/Leave, historical queries with each server down in turn, concurrent multi leave/join, minimal transfers after multijoins and multileaves, the same newest configuration after the leader is killed.',
    durationUs: main.timeUs + SECOND,
    scripts: [main, ...helpers],
    faults: [...faults, { atUs: killUs, kind: 'crash', node: 0 }],
    script: [
      { atUs: campaignUs, kind: 'inject', node: 0, message: { type: 'campaign' } },
      { atUs: campaignUs + 500 * MS, kind: 'check', check: 'ctrl1 leads' },
    ],
  });
}

// TestMinimalAgain1: a join moves only to the joiner, a leave only off the leaver, and at
// most NShards/3 + 1 shards each time.
{
  const main = new Script(300 * MS);
  main.join(1).join(2).query(-1, 'c1');
  main.join(3).query(-1, 'c2', {
    joinedSince: { from: 'c1', gids: [3] },
    movedAtMost: { from: 'c1', count: Math.floor(NSHARDS / 3) + 1 },
  });
  main.leave(1).query(-1, undefined, {
    leftSince: { from: 'c2', gids: [1] },
    movedAtMost: { from: 'c2', count: Math.floor(NSHARDS / 3) + 1 },
  });
  definePort({
    name: 'shardctrler-minimal-again',
    description:
      'MIT shardctrler TestMinimalAgain1: minimal movement after a join and after a leave.',
    durationUs: main.timeUs + SECOND,
    scripts: [main],
  });
}
