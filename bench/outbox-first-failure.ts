// Seeds to first failure for the outbox's known-bug variants and the dual-write services,
// from a few starting seeds (firstFailingSeed, as `faultline fuzz <scenario> [--variant V]
// --from F --stop-on-first` would find them). Prints a markdown table.
//   npx tsx bench/outbox-first-failure.ts [--starts 0,1000] [--limit 200] [--only per-lsn]
import { type FirstFailureTarget, printFirstFailures } from './first-failure.ts';

const targets: FirstFailureTarget[] = [
  ['dual-write', null],
  ['dual-write-publish-first', null],
  ['outbox-cdc', 'relay-saves-position-before-publish'],
  ['outbox-cdc', 'relay-position-per-lsn'],
  ['outbox-cdc', 'publish-unordered'],
  ['outbox-cdc', 'consumer-not-idempotent'],
  ['outbox-cdc', 'outbox-outside-transaction'],
  ['outbox-cdc', 'db:ack-before-fsync'],
  ['outbox-polling', 'relay-saves-position-before-publish'],
  ['outbox-polling', 'publish-unordered'],
  ['outbox-polling', 'consumer-not-idempotent'],
  ['outbox-polling', 'outbox-outside-transaction'],
  ['outbox-crash-points', 'relay-position-per-lsn'],
  ['outbox-crash-points', 'relay-saves-position-before-publish'],
];

printFirstFailures(targets, process.argv.slice(2));
