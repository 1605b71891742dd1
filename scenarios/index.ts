// Importing this module registers every scenario; `faultline list` shows them.
import './pingpong.ts';
import './raft.ts';
import './raft-figure8.ts';
import './raft-lease-restart.ts';
import './raft-lease-drift.ts';
import './raft-prevote-rejoin.ts';
import './raft-backup-unknown-term.ts';
import './raft-mit.ts';
import './kv.ts';
import './kv-mit.ts';
import './raft-multi.ts';
import './raft-colocated.ts';
import './kafka.ts';
import './shardctrler-mit.ts';
import './shardkv.ts';
import './shardkv-mit.ts';
import './outbox.ts';
