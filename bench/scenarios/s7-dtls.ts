import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, type ScenarioRow } from '../report.js';
import { withFleet, withGateway, type BenchEnv, type Measured } from './env.js';

/** A fresh EC key and self-signed certificate for the gateway, made with openssl once per bench run. */
let dtlsSection: string | undefined;
function dtlsConfig(): string {
  if (dtlsSection) return dtlsSection;
  const dir = mkdtempSync(join(tmpdir(), 'mqttsn-bench-dtls-'));
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  spawnSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  spawnSync('openssl', ['req', '-new', '-x509', '-key', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1']);
  dtlsSection = ['dtls:', `  cert: ${cert}`, `  key: ${key}`, '  maxHandshakes: 1000', ''].join('\n');
  return dtlsSection;
}

/** Connect 50 devices (timed: DTLS handshakes included), then QoS 1 flat out, 10 in flight each. */
async function connectAndPublish(env: BenchEnv, url: string): Promise<{ measured: Measured; connectMs: number }> {
  const devices = env.quick ? 5 : 50;
  return withFleet(env, 'sn', url, devices, async (measure, connectMs) => ({
    measured: await measure({ devices: 0, qos: 1, mode: 'window', rate: 0, window: 10, durationMs: env.quick ? 500 : 5000, payloadSize: 32 }),
    connectMs: connectMs ?? Number.NaN,
  }));
}

/** What DTLS costs: QoS 1 delivered over dtls:// against the same over plain ud:// (the "direct" column), and handshakes per second. */
export async function scenario7(env: BenchEnv): Promise<ScenarioRow> {
  const devices = env.quick ? 5 : 50;
  const runs: Array<{ dtls: number; udp: number; handshakesPerSecond: number; udpConnectsPerSecond: number; dtlsRttP50: number; udpRttP50: number; lost: number }> = [];
  for (let run = 0; run < env.runs; run++) {
    const dtls = await withGateway(env, (gateway) => connectAndPublish(env, gateway.url), dtlsConfig());
    const udp = await withGateway(env, (gateway) => connectAndPublish(env, gateway.url));
    runs.push({
      dtls: Math.round(dtls.measured.delivered),
      udp: Math.round(udp.measured.delivered),
      handshakesPerSecond: Math.round(devices / (dtls.connectMs / 1000)),
      udpConnectsPerSecond: Math.round(devices / (udp.connectMs / 1000)),
      dtlsRttP50: dtls.measured.load.rtt.p50Ms,
      udpRttP50: udp.measured.load.rtt.p50Ms,
      lost: dtls.measured.count.lost,
    });
  }
  const ours = median(runs.map((r) => r.dtls));
  const direct = median(runs.map((r) => r.udp));
  return {
    scenario: '7. DTLS: QoS 1, 50 dev x 10 (vs UDP)',
    metric: 'delivered',
    unit: 'msg/s',
    ours,
    direct,
    ratio: ours / direct,
    target: 'figures only (issue 16)',
    met: true,
    details: {
      'handshakes/s (50 at once, CONNECT+REGISTER incl.)': median(runs.map((r) => r.handshakesPerSecond)),
      'UDP connects/s': median(runs.map((r) => r.udpConnectsPerSecond)),
      'PUBACK RTT p50 ms': median(runs.map((r) => r.dtlsRttP50)),
      'UDP p50 ms': median(runs.map((r) => r.udpRttP50)),
      lost: Math.max(...runs.map((r) => r.lost)),
    },
    runs,
  };
}
