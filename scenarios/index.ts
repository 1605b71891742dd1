// Importing this module registers every scenario; `faultline list` shows them.
import './pingpong.ts';
import './raft-mit.ts';
