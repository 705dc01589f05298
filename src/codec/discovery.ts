/** Gateway discovery: ADVERTISE, SEARCHGW, GWINFO (MQTT-SN 1.2 §5.4.1-§5.4.3, reference (f)). */
import type { BodyCodec } from './codec.js';
import { atLeast, exactly } from './codec.js';
import type { Advertise, GwInfo, SearchGw } from './packets.js';
import { u16, u8 } from './wire.js';

// §5.4.1: GwId(1) Duration(2).
export const advertise: BodyCodec<Advertise> = {
  length: exactly(5),
  size(p) {
    u8(p.gwId, 'gwId');
    u16(p.duration, 'duration');
    return 3;
  },
  write(p, buf, at) {
    buf[at] = p.gwId;
    buf.writeUInt16BE(p.duration, at + 1);
  },
  decode: (buf, b) => ({ type: 'advertise', gwId: buf[b] ?? 0, duration: buf.readUInt16BE(b + 1) }),
};

// §5.4.2: Radius(1).
export const searchgw: BodyCodec<SearchGw> = {
  length: exactly(3),
  size(p) {
    u8(p.radius, 'radius');
    return 1;
  },
  write(p, buf, at) {
    buf[at] = p.radius;
  },
  decode: (buf, b) => ({ type: 'searchgw', radius: buf[b] ?? 0 }),
};

// §5.4.3: GwId(1) GwAdd(rest) — GwAdd only when a client answers on behalf of a gateway.
export const gwinfo: BodyCodec<GwInfo> = {
  length: atLeast(3),
  size(p) {
    u8(p.gwId, 'gwId');
    return 1 + p.gwAdd.length;
  },
  write(p, buf, at) {
    buf[at] = p.gwId;
    p.gwAdd.copy(buf, at + 1);
  },
  decode: (buf, b, e) => ({ type: 'gwinfo', gwId: buf[b] ?? 0, gwAdd: buf.subarray(b + 1, e) }),
};
