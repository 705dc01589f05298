import { startEmbeddedBroker } from '../../src/upstream/embedded-broker.js';
import { mosquittoSkipReason, startMosquitto } from './mosquitto.js';

export interface TestBroker {
  readonly url: string;
  stop(): Promise<void>;
}

/** The two brokers every end-to-end suite runs against: aedes in process, and a real mosquitto. */
export const brokerKinds: ReadonlyArray<{ name: string; skip: string | undefined; start: () => Promise<TestBroker> }> = [
  {
    name: 'aedes (in-process)',
    skip: undefined,
    start: async () => {
      const broker = await startEmbeddedBroker(0);
      return { url: broker.url, stop: () => broker.close() };
    },
  },
  {
    name: 'mosquitto',
    skip: mosquittoSkipReason(),
    start: () => startMosquitto(),
  },
];
