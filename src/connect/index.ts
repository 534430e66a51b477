/**
 * `outbox-cache/connect`: Debezium connectors on Kafka Connect (DESIGN.md §3). Connector files
 * with `${VAR}` placeholders, an idempotent apply over Connect's REST API that waits until the
 * tasks run, and a reading of connector status that names the failure. `outbox-cache connectors`
 * is a thin CLI over these.
 */
export { KafkaConnectClient, ConnectRestError, type KafkaConnectClientOptions, type PutOutcome } from './rest-client.js';
export {
  applyConnector, waitUntilRunning, sameConfig,
  type ApplyOptions, type ApplyResult, type ConfigChange, type WaitOutcome,
} from './apply.js';
export {
  parseConnectorFile, resolveConnector, connectorPlaceholders, envPlaceholders,
  type ConnectorSpec, type EnvPlaceholder,
} from './connector-file.js';
export {
  parseConnectorStatus, assessStatus, describeStatus, failuresOf, formatFailure, traceCauses,
  type ConnectorStatus, type StatusVerdict, type Failure as ConnectorFailure, type StateEntry as ConnectorStateEntry,
  type ConnectState,
} from './status.js';
