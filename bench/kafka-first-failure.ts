// Seeds to first failure for the Kafka expected-loss scenarios and the kafka variants, from a
// few starting seeds: an in-process loop over runSeed (firstFailingSeed), as `faultline fuzz <scenario>
// [--variant V] --from F --stop-on-first` would find them. Prints a markdown table.
//   npx tsx bench/kafka-first-failure.ts [--starts 0,1000] [--limit 200] [--only autocommit]
import { type FirstFailureTarget, printFirstFailures } from './first-failure.ts';

const targets: FirstFailureTarget[] = [
  ['kafka-acks1-leader-crash', null],
  ['kafka-unclean-election', null],
  ['kafka-min-isr-1', null],
  ['kafka-truncate-without-epochs', null],
  ['kafka', 'hw-advanced-before-isr-ack'],
  ['kafka', 'no-producer-dedup-after-failover'],
  ['kafka', 'fetch-beyond-hw'],
  ['kafka', 'damaged-tail-cut-as-torn'],
  ['kafka-autocommit-crash', null],
  ['kafka-reset-latest', null],
  ['kafka-group-churn', 'stale-generation-commit-accepted'],
];

printFirstFailures(targets, process.argv.slice(2));
