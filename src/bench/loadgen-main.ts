/**
 * The load generator as its own process, so it does not share an event loop with the gateway
 * or the counter. It connects its fleet, prints `{"ready":true}`, then runs one request per
 * line read on stdin and prints one result per line; `exit` ends it.
 * Requests: a LoadSpec (for `sn`/`mqtt` fleets) or `{"wake":[device, ...]}` (for `sleepers`).
 */
import { createInterface } from 'node:readline';
import type { Fleet, LoadSpec } from './fleet.js';
import { MqttFleet } from './mqtt-fleet.js';
import { SleeperFleet } from './sleepers.js';
import { SnFleet } from './sn-fleet.js';

export interface LoadgenTarget {
  readonly kind: 'sn' | 'mqtt' | 'sleepers';
  /** `udp://HOST:PORT` (or `dtls://`) for MQTT-SN, `mqtt://HOST:PORT` for direct MQTT. */
  readonly url: string;
  readonly devices: number;
  readonly runId: string;
  /** MQTT-SN keep-alive of simulated devices (0: none). */
  readonly keepAlive?: number;
}

async function main(): Promise<void> {
  const target = JSON.parse(process.argv[2] ?? '{}') as LoadgenTarget;
  let fleet: Fleet | undefined;
  let sleepers: SleeperFleet | undefined;
  if (target.kind === 'sleepers') {
    sleepers = new SleeperFleet(target.url, target.devices, target.runId);
    await sleepers.connect();
  } else {
    fleet = target.kind === 'sn' ? new SnFleet(target.url, target.devices, target.runId, target.keepAlive) : new MqttFleet(target.url, target.devices, target.runId);
    await fleet.connect();
  }
  process.stdout.write(`${JSON.stringify({ ready: true, connectMs: fleet instanceof SnFleet ? fleet.connectMs : undefined })}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'exit') break;
    const request = JSON.parse(line) as LoadSpec | { wake: number[] };
    const result = 'wake' in request ? { received: await sleepers!.wake(request.wake) } : await fleet!.run(request);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  await fleet?.close();
  sleepers?.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`loadgen: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
