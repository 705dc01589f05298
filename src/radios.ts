import type { Radio } from './radio.js';
import { RadioError } from './radio.js';

/**
 * Builds a radio from its URL. Each transport is imported only when configured, so a missing
 * native module (serialport, noble) disables only the radio that needs it.
 */
export async function createRadio(url: string): Promise<Radio> {
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
    case 'ble': {
      const { BleRadio } = await import('../radios/ble.js');
      return new BleRadio({ url });
    }
    default:
      throw new RadioError(
        'bad-url',
        `radio ${url}: unknown radio type "${scheme ?? url}"; expected udp://HOST:PORT, udp6://[HOST]:PORT, serial:///dev/ttyUSB0?baud=115200&framing=slip xbee:///dev/ttyUSB0?baud=9600&api=2 or ble://hci0`,
      );
  }
}
