import type { PublishTopic } from '../codec/packets.js';
import { isShortTopicName } from '../topics/names.js';
import type { GatewayContext } from './context.js';
import type { StoredMessage } from '../store/durable-store.js';
import type { OutboundMessage, Session } from './session.js';

/** PUBLISH header: length, type, flags, topic ID, MsgId; +2 when the 3-octet length form is needed. */
const PUBLISH_OVERHEAD = 7;
/** Share of buffer.memoryMessages / memoryBytes that messages for devices that are away may fill. */
export const AWAY_MEMORY_SHARE = 0.5;
/** Writes waiting in the store beyond which messages for absent devices are dropped rather than queued. */
export const MAX_STORE_BACKLOG = 10_000;

type DeviceTopic = { readonly ready: true; readonly topic: PublishTopic } | { readonly ready: false; readonly topicId: number } | undefined;

/** How to name `topic` to this device: predefined ID, a known normal ID, a short name, or REGISTER first. */
function topicForDevice(session: Session, topic: string): DeviceTopic {
  const predefinedId = session.registry.predefined.id(topic);
  if (predefinedId !== undefined && session.predefinedInUse.has(predefinedId)) return { ready: true, topic: { kind: 'predefined', id: predefinedId } };
  const id = session.registry.idOf(topic);
  if (id !== undefined && session.registry.isKnown(id)) return { ready: true, topic: { kind: 'normal', id } };
  if (id === undefined && isShortTopicName(topic)) return { ready: true, topic: { kind: 'short', name: topic } };
  const registered = session.registry.register(topic);
  return registered.ok ? { ready: false, topicId: registered.id } : undefined;
}

function frameSize(message: OutboundMessage): number {
  return withLength(PUBLISH_OVERHEAD + message.payload.length);
}

/** REGISTER (§5.4.10): length, type, topic ID, MsgId, then the name. */
function registerSize(topic: string): number {
  return withLength(6 + Buffer.byteLength(topic, 'utf8'));
}

/** Frames over 255 octets use the 3-octet length form (§5.2.1). */
function withLength(size: number): number {
  return size > 255 ? size + 2 : size;
}

/** The largest frame the device's link carries, after a forwarder's encapsulation (§5.5). */
function largestFrame(ctx: GatewayContext, session: Session): number {
  const { peer } = session;
  const encapsulation = peer.wirelessNodeId ? 3 + peer.wirelessNodeId.length : 0;
  return Math.min(ctx.config.limits.maxMessageSize, peer.radio.maxFrameSize - encapsulation);
}

/**
 * Moves a device's queue forward (MQTT-SN 1.2 §6.10, §6.14): REGISTER before a topic the device has
 * no ID for, one QoS 1 exchange at a time, QoS 0 straight through. When an awake device's queue is
 * empty, PINGRESP ends the flush and it is asleep again.
 */
export function pump(ctx: GatewayContext, session: Session): void {
  const maxSize = largestFrame(ctx, session);
  while (session.reachable && !session.awaiting && !session.retryTimer && session.pendingSubacks === 0) {
    if (session.loading || session.spilled.count > 0) {
      // The oldest messages are in the store: read them back first (the flush waits meanwhile).
      if (!session.loading) loadSpilled(ctx, session);
      return;
    }
    const message = session.outbound[0];
    if (!message) break;
    const target = frameSize(message) > maxSize ? undefined : topicForDevice(session, message.topic);
    if (!target) {
      // Too long for the link, or no ID left: abandon this delivery silently to the device (§6.10).
      dequeue(ctx, session);
      ctx.stats.deliveryFailed++;
      ctx.logger.debug({ clientId: session.clientId, topic: message.topic }, 'delivery abandoned');
      continue;
    }
    if (!target.ready && registerSize(message.topic) > maxSize) {
      // A topic name too long for the link to carry in a REGISTER: the delivery cannot happen.
      dequeue(ctx, session);
      ctx.stats.deliveryFailed++;
      continue;
    }
    if (!target.ready) {
      const msgId = session.allocateMsgId();
      session.awaiting = { kind: 'register', msgId, topicId: target.topicId, topic: message.topic, attempts: 0 };
      ctx.send(session.peer, { type: 'register', topicId: target.topicId, msgId, topicName: message.topic });
      armRetry(ctx, session);
      break;
    }
    const msgId = message.qos === 0 ? 0 : session.allocateMsgId();
    ctx.stats.publishesOut++;
    if (message.qos === 0) ctx.stats.publishesOutQos0++;
    else if (message.qos === 1) ctx.stats.publishesOutQos1++;
    else ctx.stats.publishesOutQos2++;
    ctx.send(session.peer, { type: 'publish', dup: false, qos: message.qos, retain: message.retain, topic: target.topic, msgId, payload: message.payload });
    if (message.qos === 0) {
      dequeue(ctx, session);
      continue;
    }
    const frameTopicId = target.topic.kind === 'short' ? 0 : target.topic.id;
    session.awaiting = { kind: 'publish', msgId, frameTopicId, message, attempts: 0 };
    armRetry(ctx, session);
  }
  if (session.state === 'awake' && !session.awaiting && !session.retryTimer && session.outbound.length === 0) {
    session.state = 'asleep';
    session.lastSeen = ctx.clock.now();
    ctx.send(session.peer, { type: 'pingresp' });
  }
}

/** The device answered what we were waiting for: stop the retry timer and clear the exchange. */
export function settle(ctx: GatewayContext, session: Session): void {
  if (session.retryTimer) ctx.clock.clearTimeout(session.retryTimer);
  session.retryTimer = undefined;
  session.awaiting = undefined;
}

/** The device said "rejected: congestion": hold its queue and offer again after T_RETRY (§6.13). */
export function backOff(ctx: GatewayContext, session: Session): void {
  session.retryTimer = ctx.clock.setTimeout(() => {
    session.retryTimer = undefined;
    pump(ctx, session);
  }, ctx.config.timers.retryMs);
}

/** QoS 2 toward the device, second half (§5.4.14, §6.6): PUBREL until PUBCOMP; the message stays at the queue head. */
export function awaitRelease(ctx: GatewayContext, session: Session, msgId: number): void {
  session.awaiting = { kind: 'pubrel', msgId, attempts: 0 };
  ctx.send(session.peer, { type: 'pubrel', msgId });
  armRetry(ctx, session);
}

/** T_RETRY / N_RETRY (§6.13): resend with DUP, and give the device up after the last retry. */
function armRetry(ctx: GatewayContext, session: Session): void {
  const { retryMs, retries } = ctx.config.timers;
  session.retryTimer = ctx.clock.setTimeout(() => {
    session.retryTimer = undefined;
    const awaiting = session.awaiting;
    if (!awaiting || !session.reachable) return;
    awaiting.attempts++;
    if (awaiting.attempts > retries) {
      session.awaiting = undefined;
      const expected = awaiting.kind === 'register' ? 'REGACK' : awaiting.kind === 'pubrel' ? 'PUBCOMP' : awaiting.message.qos === 2 ? 'PUBREC' : 'PUBACK';
      ctx.lose(session, `no ${expected} after ${retries} retries`);
      return;
    }
    if (awaiting.kind === 'register') {
      ctx.send(session.peer, { type: 'register', topicId: awaiting.topicId, msgId: awaiting.msgId, topicName: awaiting.topic });
    } else if (awaiting.kind === 'pubrel') {
      ctx.send(session.peer, { type: 'pubrel', msgId: awaiting.msgId });
    } else {
      const { message } = awaiting;
      const topic = topicForDevice(session, message.topic);
      if (topic?.ready) {
        ctx.send(session.peer, { type: 'publish', dup: true, qos: message.qos, retain: message.retain, topic: topic.topic, msgId: awaiting.msgId, payload: message.payload });
      }
    }
    armRetry(ctx, session);
  }, retryMs);
}

/**
 * Takes message `index` out of the device's queue: delivered, refused by the device, abandoned
 * or dropped at the buffer limit. A stored copy is deleted too.
 */
export function dequeue(ctx: GatewayContext, session: Session, index = 0): OutboundMessage | undefined {
  const [message] = session.outbound.splice(index, 1);
  if (!message) return undefined;
  session.outboundBytes -= message.payload.length;
  ctx.held.remove(message.payload.length);
  ctx.heldInMemory.remove(message.payload.length);
  if (message.seq !== undefined) ctx.forgetMessage(session, message.seq);
  return message;
}

/**
 * The device is away (asleep, disconnected, lost): its stored messages leave memory and are only
 * listed (about 16 bytes each). Only QoS 0 ones, which are not stored, stay in memory.
 */
function keepInMemory(ctx: GatewayContext, session: Session, message: OutboundMessage): void {
  session.outbound.push(message);
  session.outboundBytes += message.payload.length;
  ctx.heldInMemory.add(message.payload.length);
}

export function spillStored(ctx: GatewayContext, session: Session): void {
  if (!ctx.spillsToStore || session.loading || !session.outbound.some((message) => message.seq !== undefined)) return;
  const kept: OutboundMessage[] = [];
  for (const message of session.outbound) {
    if (message.seq === undefined) kept.push(message);
    else {
      session.spilled.push(message.seq, message.payload.length);
      ctx.heldInMemory.remove(message.payload.length);
    }
  }
  session.outbound.length = 0;
  session.outbound.push(...kept);
  session.outboundBytes = kept.reduce((sum, message) => sum + message.payload.length, 0);
}

/** Reads the spilled messages back to the head of the queue, then moves the queue on. */
function loadSpilled(ctx: GatewayContext, session: Session): void {
  session.loading = true;
  const seqs = session.spilled.list();
  const done = (messages: readonly StoredMessage[]): void => {
    session.loading = false;
    if (ctx.sessions.get(session.clientId) !== session) return; // gone meanwhile (clean CONNECT, expiry)
    const bySeq = new Map(messages.map((message) => [message.seq, message]));
    const restored: OutboundMessage[] = [];
    let restoredBytes = 0;
    for (const seq of seqs) {
      if (session.spilled.peekSeq() !== seq) continue; // dropped at the buffer bound meanwhile
      const { size } = session.spilled.shift()!;
      const message = bySeq.get(seq);
      if (!message) {
        // Not in the store (it failed to write): counted, never silently skipped.
        ctx.held.remove(size);
        ctx.stats.deliveryFailed++;
        continue;
      }
      restored.push({ topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain, seq });
      restoredBytes += message.payload.length;
    }
    session.outbound.unshift(...restored);
    session.outboundBytes += restoredBytes;
    ctx.heldInMemory.add(restoredBytes, restored.length);
    if (session.reachable) pump(ctx, session);
    else spillStored(ctx, session); // asleep again already: back to the store only
  };
  ctx.readMessages(session, seqs).then(done, (error: Error) => {
    ctx.logger.error({ clientId: session.clientId, err: error.message }, 'messages held for the device cannot be read from the store');
    done([]);
  });
}

/**
 * A copy of a payload to hold for a long time, in memory of its own. The broker client's payload is
 * a view into its socket read buffer, and a copy by Buffer.from comes from Node's shared 8 KiB
 * pool: either way one small message held for hours keeps the whole larger buffer alive
 * (Node's documentation recommends allocUnsafeSlow for exactly this).
 */
export function keepableCopy(payload: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(payload.length);
  payload.copy(copy);
  return copy;
}

/** Counts and logs one message the buffer could not hold (§6.14: every drop accounted for). */
type DropKind = 'queueDroppedDeviceBound' | 'queueDroppedGatewayBound' | 'queueDroppedStoreBehind' | 'queueDroppedGone' | 'queueDroppedQos0';

function dropped(ctx: GatewayContext, session: Session, message: Pick<OutboundMessage, 'topic' | 'qos'>, kind: DropKind, reason: string | (() => string), count = 1): void {
  ctx.stats.queueDropped += count;
  ctx.stats[kind] += count;
  // A flood fanned out to many full queues drops millions: one line a second says enough, and
  // nothing is built for the others (the count is in the status line).
  const now = ctx.clock.now();
  if (now - lastDropLoggedAt < 1000) return;
  lastDropLoggedAt = now;
  ctx.logger.info({ clientId: session.clientId, topic: message.topic, qos: message.qos, reason: typeof reason === 'string' ? reason : reason(), dropped: ctx.stats.queueDropped }, 'message for device dropped');
}

let lastDropLoggedAt = Number.NEGATIVE_INFINITY;

/**
 * What `enqueue` would do with a QoS 0 broker message for every sleeping device, decided once per
 * message: 'drop' when none of them can keep it (buffer.qos0: drop, or the bounds are reached),
 * so a flood fanned out to thousands of sleeping subscribers costs a count, not a visit each.
 */
export function qos0ForSleepers(ctx: GatewayContext, size: number): 'enqueue' | 'drop' {
  if (ctx.config.buffer.qos0 === 'drop') return 'drop';
  return ctx.held.hasRoomFor(size) && ctx.heldInMemory.hasRoomFor(size, AWAY_MEMORY_SHARE) ? 'enqueue' : 'drop';
}

/** Counts `count` QoS 0 messages `qos0ForSleepers` dropped for sleeping devices (one log line at most). */
export function droppedForSleepers(ctx: GatewayContext, session: Session, topic: string, count: number): void {
  if (ctx.config.buffer.qos0 === 'drop') dropped(ctx, session, { topic, qos: 0 }, 'queueDroppedQos0', 'QoS 0 not kept for sleeping devices (buffer.qos0: drop)', count);
  else dropped(ctx, session, { topic, qos: 0 }, 'queueDroppedGatewayBound', () => allBuffersFull(ctx), count);
}

function allBuffersFull(ctx: GatewayContext): string {
  const { held, heldInMemory } = ctx;
  return `all buffers full (buffer.totalMessages ${held.maxMessages} / totalBytes ${held.maxBytes}, memoryMessages ${heldInMemory.maxMessages} / memoryBytes ${heldInMemory.maxBytes}, half of it for devices that are away), newest dropped`;
}

/**
 * Queues a broker message for the device under the buffer policy (config `buffer`): count and byte
 * limits with drop-oldest or drop-newest, QoS 0 kept or not while asleep. A QoS 1/2 message for a
 * device that is away is written to the durable store first; the returned promise settles when it
 * is there, and only then does the gateway acknowledge it to the broker. `keptPayload` gives the
 * copy of the payload to hold (shared when one message goes to many devices).
 */
export function enqueue(ctx: GatewayContext, session: Session, message: OutboundMessage, keptPayload: () => Buffer = () => keepableCopy(message.payload)): Promise<void> | undefined {
  const gone = session.state === 'disconnected' || session.state === 'lost';
  const away = gone || session.state === 'asleep';
  // A disconnected persistent session keeps QoS 1 and 2 only, as an MQTT broker would.
  if (gone && message.qos === 0) return undefined;
  const { maxMessages, maxBytes, overflow, qos0 } = ctx.config.buffer;
  if (gone && (session.heldCount >= maxMessages || session.heldBytes + message.payload.length > maxBytes)) {
    // A device that is gone (not asleep) keeps what it has, as an MQTT broker keeps an offline
    // session's queue: dropping its oldest for each new message would cost a store write and a
    // delete per message per abandoned session, which a flood to many of them turns into a CPU
    // and disk storm for every device. Nothing more can reach it until it comes back, so it
    // leaves the routing table meanwhile and costs nothing per message.
    dropped(ctx, session, message, 'queueDroppedGone', 'the device is gone and its buffer is full, newest dropped; no more until it comes back');
    ctx.stopRouting(session);
    return undefined;
  }
  if (session.state === 'asleep' && message.qos === 0 && qos0 === 'drop') {
    dropped(ctx, session, message, 'queueDroppedQos0', 'QoS 0 not kept for sleeping devices (buffer.qos0: drop)');
    return undefined;
  }
  const size = message.payload.length;
  if (away && message.qos > 0 && ctx.storeBacklog() > MAX_STORE_BACKLOG) {
    // The disk cannot keep up (a flood fanned out to many absent subscribers): queueing more
    // writes would only grow memory and starve everyone else. This message is dropped for this
    // absent device, counted, and acknowledged to the broker.
    dropped(ctx, session, message, 'queueDroppedStoreBehind', `the store is behind (${MAX_STORE_BACKLOG} writes waiting), newest dropped`);
    return undefined;
  }
  // Spilled (in the store only) unless stored messages are still in memory for it: the spilled
  // ones must stay older than those, or the order would break when they are read back.
  const spills = (): boolean => ctx.spillsToStore && away && message.qos > 0 && !session.loading && (session.spilled.count > 0 || !session.outbound.some((held) => held.seq !== undefined));
  // The gateway-wide bounds (all held messages; those in memory) drop the new message: O(1), no
  // store work, which is what a flood fanned out to many queues needs. Devices that are away fill
  // at most half of the memory bound, so connected devices always have the other half: thousands
  // of sleeping subscribers cannot starve the devices that are here.
  if (!ctx.held.hasRoomFor(size) || (!spills() && !ctx.heldInMemory.hasRoomFor(size, away ? AWAY_MEMORY_SHARE : 1))) {
    dropped(ctx, session, message, 'queueDroppedGatewayBound', () => allBuffersFull(ctx));
    // A gone device misses messages from here on anyway: it gets no more until it comes back,
    // so the room that frees up goes to devices that are here or asleep.
    if (gone) ctx.stopRouting(session);
    return undefined;
  }
  // The device's own bound: buffer.overflow decides, on this device's queue only.
  const reason = (): string => `buffer full (${maxMessages} messages / ${maxBytes} bytes)`;
  while (session.heldCount >= maxMessages || session.heldBytes + size > maxBytes) {
    if (overflow === 'drop-oldest' && session.spilled.count > 0) {
      // The oldest are the spilled ones.
      const victim = session.spilled.shift()!;
      ctx.held.remove(victim.size);
      ctx.forgetMessage(session, victim.seq);
      dropped(ctx, session, { topic: '(held in the store)', qos: 1 }, 'queueDroppedDeviceBound', () => `${reason()}, oldest dropped`);
      continue;
    }
    // Never the message on the air: its acknowledgement may be on its way.
    const oldest = session.awaiting?.kind === 'publish' || session.awaiting?.kind === 'pubrel' ? 1 : 0;
    if (overflow === 'drop-newest' || oldest >= session.outbound.length) {
      dropped(ctx, session, message, 'queueDroppedDeviceBound', () => `${reason()}, newest dropped`);
      return undefined;
    }
    const victim = dequeue(ctx, session, oldest)!;
    dropped(ctx, session, victim, 'queueDroppedDeviceBound', () => `${reason()}, oldest dropped`);
  }
  let written: Promise<void> | undefined;
  if (away && message.qos > 0) {
    // A copy (keepableCopy): the broker client's payload is a view into its socket read buffer,
    // which a message held for hours would keep alive whole. One copy per broker message, shared
    // by every device it is held for.
    const kept = { ...message, payload: keptPayload(), seq: session.nextSeq++ };
    if (spills()) session.spilled.push(kept.seq, size);
    else keepInMemory(ctx, session, kept);
    written = ctx.storeMessage(session, kept).catch((error: Error) => {
      // Kept in memory and delivered while the gateway runs (a spilled one moves to memory: it is
      // not in the store to read back). The broker's acknowledgement goes out anyway: withheld, it
      // would fill the broker's in-flight window for the shared connection and stall every other
      // device's messages behind this device's store trouble.
      if (session.spilled.remove(kept.seq)) keepInMemory(ctx, session, { topic: kept.topic, payload: kept.payload, qos: kept.qos, retain: kept.retain });
      ctx.stats.storeFailed++;
      ctx.logger.error({ clientId: session.clientId, topic: message.topic, err: error.message }, 'message for device not stored: kept in memory only');
    });
  } else {
    // Held for a device that is away (QoS 0 for a sleeper): a copy too, for the same reason.
    keepInMemory(ctx, session, away ? { ...message, payload: keptPayload() } : message);
  }
  ctx.held.add(size);
  pump(ctx, session);
  return written;
}
