import type { GatewayConfig } from './config/schema.js';
import type { Radio } from './radio.js';
import { RadioError } from './radio.js';

/**
 * Builds a radio from its URL. Each transport is imported only when configured, so a missing
 * native module (serialport, noble) disables only the radio that needs it.
 */
export async function createRadio(url: string, config?: Pick<GatewayConfig, 'dtls'>): Promise<Radio> {
  const scheme = /^([a-z0-9+.-]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'udp':
    case 'udp6': {
      const { UdpRadio } = await import('../radios/udp.js');
      return new UdpRadio({ url });
    }
    case 'serial': {
      const { SerialRadio } = await import('../radios/serial.js');
      return new SerialRadio({ url });
    }
    case 'xbee': {
      const { XBeeRadio } = await import('../radios/xbee.js');
      return new XBeeRadio({ url });
    }
    case 'dtls':
    case 'dtls6': {
      const dtls = config?.dtls;
      if (!dtls?.cert || !dtls.key) throw new RadioError('bad-url', `radio ${url}: a DTLS radio needs the gateway's certificate: set dtls.cert and dtls.key (PEM files) in the config`);
      const { DtlsRadio } = await import('../radios/dtls.js');
      return new DtlsRadio({ url, cert: dtls.cert, key: dtls.key, maxHandshakes: dtls.maxHandshakes, idleSeconds: dtls.idleSeconds });
    }
    case 'ble': {
      const { BleRadio } = await import('../radios/ble.js');
      return new BleRadio({ url });
    }
    default:
      throw new RadioError(
        'bad-url',
        `radio ${url}: unknown radio type "${scheme ?? url}"; expected udp://HOST:PORT, udp6://[HOST]:PORT, dtls://HOST:PORT, serial:///dev/ttyUSB0?baud=115200&framing=slip, xbee:///dev/ttyUSB0?baud=9600&api=2 or ble://hci0`,
      );
  }
}
