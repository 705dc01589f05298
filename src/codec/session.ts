/** Keep-alive and sleep: PINGREQ, PINGRESP, DISCONNECT (MQTT-SN 1.2 §5.4.19-§5.4.21, §6.14). */
import type { BodyCodec } from './codec.js';
import { emptyOrAtLeast, exactly, oneOf } from './codec.js';
import { EncodeError } from './errors.js';
import type { Disconnect, PingReq, PingResp } from './packets.js';
import { u16, utf8Length } from './wire.js';
import { decodeText } from './text.js';

// §5.4.19: ClientId(rest, optional). With it, a sleeping client announces it is awake (§6.14).
// exactOptionalPropertyTypes: the property is absent, never `undefined`, when there is no id.
export const pingreq: BodyCodec<PingReq> = {
  length: emptyOrAtLeast(3),
  size(p) {
    if (p.clientId === undefined) return 0;
    const n = utf8Length(p.clientId);
    // An empty id would encode as the 2-octet form and decode without clientId.
    if (n === 0) throw new EncodeError('bad-value', 'clientId', 'must be absent or non-empty');
    return n;
  },
  write(p, buf, at) {
    if (p.clientId !== undefined) buf.write(p.clientId, at, 'utf8');
  },
  decode: (buf, b, e) => (e === b ? { type: 'pingreq' } : { type: 'pingreq', clientId: decodeText(buf, b, e) }),
};

// §5.4.20: no body.
export const pingresp: BodyCodec<PingResp> = {
  length: exactly(2),
  size: () => 0,
  write: () => undefined,
  decode: () => ({ type: 'pingresp' }),
};

// §5.4.21: Duration(2, optional): present = go to sleep for that many seconds. Total 3 is malformed.
export const disconnect: BodyCodec<Disconnect> = {
  length: oneOf(2, 4),
  size(p) {
    if (p.duration === undefined) return 0;
    u16(p.duration, 'duration');
    return 2;
  },
  write(p, buf, at) {
    if (p.duration !== undefined) buf.writeUInt16BE(p.duration, at);
  },
  decode: (buf, b, e) => (e === b ? { type: 'disconnect' } : { type: 'disconnect', duration: buf.readUInt16BE(b) }),
};
