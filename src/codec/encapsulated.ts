/**
 * Forwarder encapsulation, MsgType 0xFE (MQTT-SN 1.2 §5.5, reference (j)):
 *   [0] Length = 3 + node-id length (this header only, always 1 octet)  [1] 0xFE
 *   [2] Ctrl (bits 1-0 broadcast radius)  [3..Length-1] Wireless Node Id  then one whole message.
 */
import type { MessageCodec } from './codec.js';
import { fail } from './codec.js';
import type { DecodeError } from './errors.js';
import { EncodeError } from './errors.js';
import type { Encapsulated, Packet } from './packets.js';
import { MsgType } from './packets.js';

/** The frame-level functions the encapsulation recurses into (injected to avoid an import cycle). */
export interface InnerCodec {
  sizeOf(p: Packet): number;
  writeTo(p: Packet, buf: Buffer, at: number, total: number): void;
  /** Decodes a whole non-encapsulated message from `buf[start]` to the end of `buf`. */
  decodeInner(buf: Buffer, start: number): Packet | DecodeError;
}

const FE = MsgType.encapsulated;
const MAX_NODE_ID = 0xff - 3;

export function encapsulation(inner: InnerCodec): MessageCodec<Encapsulated> {
  return {
    size(p) {
      const r = p.radius;
      if (!Number.isInteger(r) || r < 0 || r > 3) throw new EncodeError('out-of-range', 'radius', `must be 0..3 (Ctrl bits 1-0), got ${r}`);
      if (p.wirelessNodeId.length > MAX_NODE_ID) {
        throw new EncodeError('too-long', 'wirelessNodeId', `at most ${MAX_NODE_ID} octets, got ${p.wirelessNodeId.length}`);
      }
      // The type says InnerPacket, but plain JS callers can still nest; §5.5 forbids it.
      const innerType: string = p.packet.type;
      if (innerType === 'encapsulated') throw new EncodeError('bad-value', 'packet', 'encapsulation cannot be nested');
      return 3 + p.wirelessNodeId.length + inner.sizeOf(p.packet);
    },
    write(p, buf, at, total) {
      const hdr = 3 + p.wirelessNodeId.length;
      buf[at] = hdr;
      buf[at + 1] = FE;
      buf[at + 2] = p.radius;
      p.wirelessNodeId.copy(buf, at + 3);
      inner.writeTo(p.packet, buf, at + hdr, total - hdr);
    },
    decode(buf, start, header) {
      // 0x01 would announce a 3-octet length, which this header never has (reference (j)).
      if (header.typeAt !== start + 1) return fail('bad-encapsulation', start, 'encapsulation header length is always 1 octet', FE);
      const hdr = header.total;
      if (hdr < 3) return fail('bad-encapsulation', start, `header length ${hdr} is below 3`, FE);
      if (hdr >= buf.length - start) {
        return fail('bad-encapsulation', start, `header length ${hdr} leaves no room for the inner message`, FE);
      }
      // Inner errors keep their own code; their offsets are already relative to the outer frame.
      const packet = inner.decodeInner(buf, start + hdr);
      if ('code' in packet) return packet;
      if (packet.type === 'encapsulated') return fail('nested-encapsulation', start + hdr + 1, 'nested encapsulation', FE);
      return {
        type: 'encapsulated',
        radius: (buf[start + 2] ?? 0) & 0x03,
        wirelessNodeId: buf.subarray(start + 3, start + hdr),
        packet,
      };
    },
  };
}
