import { type GroupSpec, serversAndClients } from '../../sim/scenario.ts';
import { PingpongClient } from './client.ts';
import { PingpongServer } from './server.ts';

export const PINGPONG_VARIANTS = {
  'ack-before-fsync': 'the server answers a ping before its fsync has completed',
  'no-checksum': 'the server trusts its log on recovery without checking record checksums',
};

/** `servers` pingpong servers (n1…) and `clients` clients (c1…). */
export function pingpongGroups(servers: number, clients: number): GroupSpec[] {
  return serversAndClients(
    servers,
    clients,
    (context) => new PingpongServer(context),
    (context) => new PingpongClient(context),
  );
}

export type { ClientView } from './client.ts';
export type { ServerView } from './server.ts';
