import type { StoredForward, StoredMessage, StoredSession } from './durable-store.js';
import { StoreError, checkTopic } from './store-error.js';

/*
 * Key layout. NUL separates parts and cannot occur in a client ID, so the messages of 'dev' form
 * one contiguous range that never overlaps those of 'dev1', ordered by seq (fixed-width hex sorts
 * like the number).
 */
export const SESSION = 's\u0000';
export const MESSAGE = 'm\u0000';
export const FORWARD = 'f\u0000';
/** The record a group sync rewrites when nothing else is pending; never loaded. */
export const SYNC_MARKER = 'z\u0000sync';

export const sessionKey = (clientId: string): string => SESSION + clientId;
export const messagePrefix = (clientId: string): string => `${MESSAGE}${clientId}\u0000`;
export const messageKey = (clientId: string, seq: number): string => messagePrefix(clientId) + seq.toString(16).padStart(12, '0');
/** The first key after every key that starts with `prefix` (its last char is NUL, so +1 is enough). */
export const rangeEnd = (prefix: string): string => prefix.slice(0, -1) + '\u0001';

export const forwardKey = (link: string, seq: number): string => `${FORWARD}${link}\u0000${seq.toString(16).padStart(12, '0')}`;

/** Splits `<prefix><clientId>\0<seq>` (a message or forward key); undefined when the key is not one. */
export function parseMessageKey(key: string, prefix = MESSAGE): { clientId: string; seq: number } | undefined {
  const split = key.lastIndexOf('\u0000');
  const hex = key.slice(split + 1);
  if (split < prefix.length || !/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return { clientId: key.slice(prefix.length, split), seq: parseInt(hex, 16) };
}

/** [properties length u16][properties JSON][message record]: user properties are rare and small. */
export function encodeForward(message: StoredForward): Buffer {
  const properties = message.properties ? Buffer.from(JSON.stringify(message.properties), 'utf8') : Buffer.alloc(0);
  if (properties.length > 0xffff) throw new StoreError('bad-record', `user properties of ${properties.length} bytes exceed 65535`);
  const length = Buffer.allocUnsafe(2);
  length.writeUInt16BE(properties.length, 0);
  return Buffer.concat([length, properties, encodeMessage(message)]);
}

/** Undefined when the record is damaged. */
export function decodeForward(link: string, seq: number, record: Buffer): StoredForward | undefined {
  if (record.length < 2) return undefined;
  const messageStart = 2 + record.readUInt16BE(0);
  const message = messageStart <= record.length ? decodeMessage(seq, record.subarray(messageStart)) : undefined;
  if (!message) return undefined;
  if (messageStart === 2) return { ...message, link };
  try {
    const properties = JSON.parse(record.toString('utf8', 2, messageStart)) as unknown;
    if (typeof properties !== 'object' || properties === null || Object.values(properties).some((value) => typeof value !== 'string')) return undefined;
    return { ...message, link, properties: properties as Record<string, string> };
  } catch {
    return undefined;
  }
}

const HEADER = 4;

/** [qos u8][retain u8][topic length u16 BE][topic utf8][payload]: compact and binary-safe. */
export function encodeMessage(message: StoredMessage): Buffer {
  // One broker message held for many devices is the same record for each: encoded once.
  const last = lastEncoded;
  if (last && last.payload === message.payload && last.topic === message.topic && last.qos === message.qos && last.retain === message.retain) return last.record;
  checkTopic(message.topic);
  const topicLength = Buffer.byteLength(message.topic, 'utf8');
  const record = Buffer.allocUnsafe(HEADER + topicLength + message.payload.length);
  record[0] = message.qos;
  record[1] = message.retain ? 1 : 0;
  record.writeUInt16BE(topicLength, 2);
  record.write(message.topic, HEADER, 'utf8');
  message.payload.copy(record, HEADER + topicLength);
  lastEncoded = { payload: message.payload, topic: message.topic, qos: message.qos, retain: message.retain, record };
  return record;
}

/** Records are never written to after encoding (LevelDB copies them), so one can be reused. */
let lastEncoded: { payload: Buffer; topic: string; qos: number; retain: boolean; record: Buffer } | undefined;

/** Undefined when the record is damaged; the payload is a copy, never a view of LevelDB's buffer. */
/** The payload size of a message record, checked as `decodeMessage` checks it, without copying anything. */
export function messageSize(record: Buffer): number | undefined {
  if (record.length < HEADER) return undefined;
  const qos = record[0];
  const topicEnd = HEADER + record.readUInt16BE(2);
  if ((qos !== 0 && qos !== 1 && qos !== 2) || record[1]! > 1 || topicEnd > record.length) return undefined;
  return record.length - topicEnd;
}

export function decodeMessage(seq: number, record: Buffer): StoredMessage | undefined {
  if (record.length < HEADER) return undefined;
  const qos = record[0];
  const topicEnd = HEADER + record.readUInt16BE(2);
  if ((qos !== 0 && qos !== 1 && qos !== 2) || record[1]! > 1 || topicEnd > record.length) return undefined;
  return {
    seq,
    topic: record.toString('utf8', HEADER, topicEnd),
    payload: Buffer.from(record.subarray(topicEnd)),
    qos,
    retain: record[1] === 1,
  };
}

/** The session as JSON, the will payload in base64: readable with any LevelDB tool when debugging. */
interface SessionJson extends Omit<StoredSession, 'will'> {
  will?: { topic: string; payload: string; qos: 0 | 1 | 2; retain: boolean };
}

export function encodeSession(session: StoredSession): Buffer {
  const { will, ...rest } = session;
  const json: SessionJson = will ? { ...rest, will: { ...will, payload: will.payload.toString('base64') } } : rest;
  return Buffer.from(JSON.stringify(json), 'utf8');
}

/** Undefined when the record is not a session (damaged, or from an incompatible version). */
export function decodeSession(record: Buffer): StoredSession | undefined {
  let json: SessionJson;
  try {
    json = JSON.parse(record.toString('utf8')) as SessionJson;
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || typeof json.clientId !== 'string') return undefined;
  if (!Array.isArray(json.subscriptions) || !Array.isArray(json.topics) || !Array.isArray(json.predefinedInUse)) return undefined;
  const { will, ...rest } = json;
  if (will === undefined) return rest;
  if (typeof will.payload !== 'string') return undefined;
  return { ...rest, will: { ...will, payload: Buffer.from(will.payload, 'base64') } };
}
