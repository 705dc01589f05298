import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authConfig, writePasswordFile } from '../helpers/mosquitto-auth.js';
import { freeTcpPort, mosquittoSkipReason, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { makeTestCa, tlsListenerConfig, type TestCa } from '../helpers/test-ca.js';

const skip = mosquittoSkipReason();

/** Connects once; `false` = no retries, so a dropped socket rejects instead of hanging. */
async function tryConnect(url: string, options: IClientOptions): Promise<void> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options }, false);
  await client.endAsync();
}

describe.skipIf(skip)('broker fixtures (mosquitto)', () => {
  let broker: Mosquitto | undefined;
  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  describe('TLS listener with client certificates', () => {
    let ca: TestCa;
    beforeAll(async () => (ca = await makeTestCa()));
    afterAll(async () => ca.remove());

    it('accepts a client with a CA-signed certificate and refuses one without', async () => {
      const port = await freeTcpPort();
      broker = await startMosquitto(tlsListenerConfig(port, ca, true));
      const url = `mqtts://localhost:${port}`; // hostname checked against the server cert's SAN
      const trust = { ca: await readFile(ca.caFile) };
      await tryConnect(url, { ...trust, cert: await readFile(ca.clientCert), key: await readFile(ca.clientKey) });
      // The broker's TLS 1.3 alert; a bare toThrow() would also pass on a client-side trust failure.
      await expect(tryConnect(url, trust)).rejects.toThrow(/certificate required|ECONNRESET/);
    });
  });

  describe('password file', () => {
    let dir: string;
    beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'mqttsn-auth-'))));
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    it('accepts alice/secret and refuses alice/wrong and anonymous', async () => {
      broker = await startMosquitto(authConfig(await writePasswordFile(dir, { alice: 'secret', bob: 'hunter2' })));
      await tryConnect(broker.url, { username: 'alice', password: 'secret' });
      await expect(tryConnect(broker.url, { username: 'alice', password: 'wrong' })).rejects.toMatchObject({ code: 5 });
      await expect(tryConnect(broker.url, {})).rejects.toThrow(/Not authorized/);
    });
  });
});
