import type { NodeContext, NodeProgram } from '../../sim/types.ts';
import { PingpongClient } from './client.ts';
import { PingpongServer } from './server.ts';

export const PINGPONG_VARIANTS = {
  'ack-before-fsync': 'the server answers a ping before its fsync has completed',
  'no-checksum': 'the server trusts its log on recovery without checking record checksums',
};

export function pingpongProgram(context: NodeContext): NodeProgram {
  return context.id < context.servers.length
    ? new PingpongServer(context)
    : new PingpongClient(context);
}

export type { ClientView } from './client.ts';
export type { ServerView } from './server.ts';
