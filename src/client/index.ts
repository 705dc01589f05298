export { MqttSnClient } from './client.js';
export type { ClientEvents, ClientStats } from './client.js';
export { ClientError, describeReturnCode } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export type {
  ClientOptions,
  ClientState,
  MessageInfo,
  PublishOptions,
  SubscribeResult,
  TopicFilter,
  WillOptions,
} from './options.js';
export { DEFAULT_GATEWAY, parseGatewayUrl } from './url.js';
export type { GatewayAddress } from './url.js';
