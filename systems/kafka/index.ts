// Public surface of the Kafka-like log.
export { BrokerNode, type KafkaBug } from './broker.ts';
export { KafkaConsumer, KafkaProducer } from './client.ts';
export * from './contract.ts';
export { ControllerNode } from './controller.ts';
export { GroupCoordinator } from './coordinator.ts';
export { KafkaGroupConsumer } from './group-consumer.ts';
export {
  allPartitionsLayout,
  DEFAULT_KAFKA_CONFIG,
  type KafkaConfig,
  kafkaConfig,
  OFFSETS_KEY,
  partitionLayout,
} from './messages.ts';
export { MetadataStateMachine, type PartitionState } from './metadata.ts';
export { PartitionLog } from './partition-log.ts';
export { KAFKA_VARIANTS, kafkaBugs, kafkaGroups } from './program.ts';
