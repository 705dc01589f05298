import net from 'node:net';

/** What answered on a TCP port: an MQTT broker that let us in, one that refused us, or not MQTT at all. */
export type ProbeResult = { readonly kind: 'mqtt' } | { readonly kind: 'refused'; readonly reason: string } | { readonly kind: 'not-mqtt'; readonly reason: string };

// MQTT 3.1.1 §3.1: CONNECT, protocol "MQTT" level 4, clean session, keep-alive 10 s, client ID "mqttsn-probe".
const CLIENT_ID = Buffer.from('mqttsn-probe');
const CONNECT = Buffer.concat([Buffer.from([0x10, 12 + CLIENT_ID.length, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 10, 0, CLIENT_ID.length]), CLIENT_ID]);
const DISCONNECT = Buffer.from([0xe0, 0]);
// §3.2.2.3 return codes 1-5.
const REFUSALS = ['', 'unacceptable protocol version', 'identifier rejected', 'server unavailable', 'bad user name or password', 'not authorized'];

/**
 * One CONNECT/CONNACK exchange with whatever listens on host:port, then DISCONNECT. A CONNACK
 * (§3.2: 0x20 0x02 flags code) means a broker; a non-zero code is a refusal. A few bytes on a raw
 * socket rather than an MQTT client: the probe must end cleanly whatever the peer sends.
 */
export function probeMqttBroker(host: string, port: number, timeoutMs = 2000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    const finish = (result: ProbeResult): void => {
      clearTimeout(timer);
      // A broker that let us in gets a clean DISCONNECT (no will, no "connection lost" in its log).
      if (result.kind === 'mqtt') socket.end(DISCONNECT);
      else socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ kind: 'not-mqtt', reason: `no CONNACK within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => socket.write(CONNECT));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      if (received[0] !== 0x20 || received[1] !== 0x02) return finish({ kind: 'not-mqtt', reason: `it answered 0x${received.subarray(0, 4).toString('hex')}, not a CONNACK` });
      const code = received[3]!;
      if (code === 0) return finish({ kind: 'mqtt' });
      finish({ kind: 'refused', reason: `CONNACK ${code}: ${REFUSALS[code] ?? 'unknown return code'}` });
    });
    socket.once('error', (error) => finish({ kind: 'not-mqtt', reason: error.message }));
    socket.once('close', () => finish({ kind: 'not-mqtt', reason: 'it closed the connection without a CONNACK' }));
  });
}
