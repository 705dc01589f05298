import { createFrameReader, encodeFrame as frameFor } from '../../radios/framing.js';
import { encodeFrame, type ApiMode, type TransmitRequest } from '../../radios/xbee-frames.js';
import { XBeeFrameReader } from '../../radios/xbee-reader.js';
import type { LineCodec } from './line-device.js';

/** A device on a serial line speaking raw or SLIP-framed MQTT-SN. */
export function serialCodec(framing: 'raw' | 'slip'): LineCodec {
  const reader = createFrameReader(framing, 65_535);
  return {
    wrap: (frame) => frameFor(framing, frame),
    unwrap: (chunk) => reader.push(chunk).flatMap((result) => (result.ok ? [result.frame] : [])),
  };
}

/**
 * The test plays the gateway's XBee module: a remote device's MQTT-SN frames arrive as Receive
 * Packets (0x90) from its 64-bit address; what the gateway transmits comes out of Transmit Requests
 * (0x10), which are kept in `requests` so tests can check destinations and frame IDs.
 */
export function xbeeModuleCodec(apiMode: ApiMode, deviceAddress: string): LineCodec & { readonly requests: TransmitRequest[]; receivePacket(frame: Buffer, from?: string): Buffer } {
  const reader = new XBeeFrameReader(apiMode);
  const requests: TransmitRequest[] = [];
  const receivePacket = (frame: Buffer, from = deviceAddress): Buffer => encodeFrame({ type: 'receivePacket', src64: from, src16: 'fffe', options: 0x01, data: frame }, apiMode);
  return {
    requests,
    receivePacket,
    wrap: (frame) => receivePacket(frame),
    unwrap: (chunk) =>
      reader.push(chunk).flatMap((result) => {
        if (!result.ok || result.frame.type !== 'transmitRequest') return [];
        requests.push(result.frame);
        // Only frames for this device (or broadcasts) reach it over the air.
        return result.frame.dest64 === deviceAddress || result.frame.dest64 === '000000000000ffff' ? [result.frame.data] : [];
      }),
  };
}
