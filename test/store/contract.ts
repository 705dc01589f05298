import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DurableStore, StoredForward, StoredMessage, StoredSession, StoredState } from '../../src/store/durable-store.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

export function session(clientId: string, extra: Partial<StoredSession> = {}): StoredSession {
  return {
    clientId,
    state: 'asleep',
    cleanSession: false,
    keepAlive: 60,
    sleepDuration: 3600,
    subscriptions: [],
    topics: [],
    predefinedInUse: [],
    ...extra,
  };
}

export function message(seq: number, payload: Buffer = Buffer.from(`m${seq}`), extra: Partial<StoredMessage> = {}): StoredMessage {
  return { seq, topic: 'sensors/t', payload, qos: 1, retain: false, ...extra };
}

/** How open() lists a message: its seq and payload size (the body stays on disk). */
const ref = (seq: number, payload: Buffer = Buffer.from(`m${seq}`)): { seq: number; size: number } => ({ seq, size: payload.length });
const refsOf = (state: StoredState, clientId: string): Array<{ seq: number; size: number }> | undefined =>
  state.sessions.find((entry) => entry.session.clientId === clientId)?.messages;
const seqsOf = (state: StoredState, clientId: string): number[] | undefined => refsOf(state, clientId)?.map((m) => m.seq);

/**
 * The DurableStore contract (style.md habit 4): every implementation, real or fake, passes it.
 * `makeStore(dir)` gives a store over `dir`; calling it again after `close()` must see the same data.
 */
export function storeContract(name: string, makeStore: (dir: string) => DurableStore): void {
  describe(`DurableStore contract: ${name}`, () => {
    let dir: string;
    let store: DurableStore;

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'mqttsn-store-'));
      store = makeStore(dir);
      expect(await store.open()).toEqual({ sessions: [], forward: [] });
    });

    afterEach(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });

    /** Close and open again, as a gateway restart does. */
    async function restart(): Promise<StoredState> {
      await store.close();
      store = makeStore(dir);
      return store.open();
    }

    /** The messages open() listed for a client, read back in full. */
    async function messagesOf(state: StoredState, clientId: string): Promise<StoredMessage[] | undefined> {
      const refs = refsOf(state, clientId);
      return refs && store.readMessages(clientId, refs.map((m) => m.seq));
    }

    it('round-trips every field of a session, will payload bytes included', async () => {
      const full = session('dev', {
        state: 'awake',
        cleanSession: true,
        keepAlive: 0xffff,
        sleepDuration: 86_400,
        will: { topic: 'dev/last-will', payload: ALL_BYTES, qos: 2, retain: true },
        subscriptions: [
          { filter: 'a/+/c', qos: 2, kind: 'name' },
          { filter: 'cmd/dev', qos: 0, kind: 'predefined' },
          { filter: 'ab', qos: 1, kind: 'short' },
        ],
        topics: [['sensors/t', 1], ['sensors/h', 0xfffe]],
        predefinedInUse: [5, 7],
      });
      await store.putSession(full);
      await store.putSession(session('bare', { state: 'lost' }));
      const state = await restart();
      expect(state.sessions).toHaveLength(2);
      const loaded = state.sessions.find((entry) => entry.session.clientId === 'dev')?.session;
      expect(loaded).toEqual(full);
      expect(Buffer.isBuffer(loaded?.will?.payload)).toBe(true);
      // exactOptionalPropertyTypes: no will means no `will` key at all, not `will: undefined`.
      const bare = state.sessions.find((entry) => entry.session.clientId === 'bare')?.session;
      expect(bare).toEqual(session('bare', { state: 'lost' }));
      expect(bare && 'will' in bare).toBe(false);
    });

    it('putSession replaces the record and keeps its messages', async () => {
      await store.putSession(session('dev', { will: { topic: 'w', payload: Buffer.from('x'), qos: 0, retain: false } }));
      await store.putMessage('dev', message(1));
      await store.putSession(session('dev', { state: 'disconnected' }));
      const state = await restart();
      expect(state.sessions).toEqual([{ session: session('dev', { state: 'disconnected' }), messages: [ref(1)] }]);
      expect(await messagesOf(state, 'dev')).toEqual([message(1)]);
    });

    it('keeps messages per client, sorted by seq however they were written', async () => {
      await store.putSession(session('a'));
      await store.putSession(session('b'));
      for (const seq of [5, 1, 0x1_0000_0000, 3, 16, 2]) await store.putMessage('a', message(seq));
      for (const seq of [9, 4]) await store.putMessage('b', message(seq, Buffer.from(`b${seq}`)));
      const state = await restart();
      expect(seqsOf(state, 'a')).toEqual([1, 2, 3, 5, 16, 0x1_0000_0000]);
      expect(await messagesOf(state, 'b')).toEqual([message(4, Buffer.from('b4')), message(9, Buffer.from('b9'))]);
    });

    it('readMessages reads back the seqs asked for, in that order, after every earlier write, without waiting for them', async () => {
      await store.putSession(session('dev'));
      for (const seq of [1, 2, 3]) await store.putMessage('dev', message(seq, Buffer.from(`m${seq}`)));
      // Issued without awaiting, as the gateway does: the read still sees them.
      void store.putMessage('dev', message(4, Buffer.from('m4')));
      void store.deleteMessage('dev', 2);
      const read = await store.readMessages('dev', [1, 2, 3, 4, 7]);
      expect(read).toEqual([message(1, Buffer.from('m1')), message(3, Buffer.from('m3')), message(4, Buffer.from('m4'))]);
      expect(await store.readMessages('nobody', [1])).toEqual([]);
      await restart();
      expect((await store.readMessages('dev', [4, 1])).map((m) => m.seq)).toEqual([4, 1]);
    });

    it('deleteMessage removes one message; an unknown seq is harmless', async () => {
      await store.putSession(session('dev'));
      for (const seq of [1, 2, 3]) await store.putMessage('dev', message(seq));
      await store.deleteMessage('dev', 2);
      await store.deleteMessage('dev', 99);
      await store.deleteMessage('nobody', 1);
      expect(seqsOf(await restart(), 'dev')).toEqual([1, 3]);
    });

    it('deleteSession removes its messages only, even when client IDs are prefixes of each other', async () => {
      for (const clientId of ['de', 'dev', 'dev1', 'dev\u0001']) {
        await store.putSession(session(clientId));
        for (const seq of [1, 2]) await store.putMessage(clientId, message(seq, Buffer.from(clientId)));
      }
      await store.deleteSession('dev');
      await store.deleteSession('unknown');
      const state = await restart();
      expect(state.sessions.map((entry) => entry.session.clientId).sort()).toEqual(['de', 'dev\u0001', 'dev1']);
      for (const clientId of ['de', 'dev1', 'dev\u0001']) {
        expect(await messagesOf(state, clientId)).toEqual([message(1, Buffer.from(clientId)), message(2, Buffer.from(clientId))]);
      }
      // A new session under the deleted ID starts empty.
      await store.putSession(session('dev'));
      expect(seqsOf(await restart(), 'dev')).toEqual([]);
    });

    it('keeps messages for the broker per link in seq order, with user properties, apart from sessions', async () => {
      const forward = (link: string, seq: number, extra: Partial<StoredForward> = {}): StoredForward => ({ ...message(seq, Buffer.from(`${link}${seq}`)), link, ...extra });
      await store.putForward(forward('', 3));
      await store.putForward(forward('', 1, { properties: { radio: 'udp://0.0.0.0:1884', 'client id': 'dev é' }, retain: true, qos: 2 }));
      await store.putForward(forward('dev', 2));
      await store.putForward(forward('', 0x1_0000_0000));
      await store.putForward(forward('', 2, { payload: ALL_BYTES }));
      await store.deleteForward('', 3);
      await store.deleteForward('nobody', 1);
      const state = await restart();
      expect(state.sessions).toEqual([]); // no session record needed: forward messages are not orphans
      expect(state.forward).toEqual([
        forward('', 1, { properties: { radio: 'udp://0.0.0.0:1884', 'client id': 'dev é' }, retain: true, qos: 2 }),
        forward('', 2, { payload: ALL_BYTES }),
        forward('', 0x1_0000_0000),
        forward('dev', 2),
      ]);
      expect(state.forward[1] && 'properties' in state.forward[1]).toBe(false);
    });

    it('applies writes in call order, even when nobody awaits in between', async () => {
      await store.putSession(session('dev'));
      const writes = [
        store.putMessage('dev', message(1)),
        store.deleteMessage('dev', 1),
        store.deleteMessage('dev', 2),
        store.putMessage('dev', message(2)),
        store.putMessage('dev', message(3)),
        store.deleteSession('dev'),
        store.putSession(session('dev', { state: 'active' })),
        store.putMessage('dev', message(4)),
      ];
      await Promise.all(writes);
      const state = await restart();
      expect(state.sessions).toEqual([{ session: session('dev', { state: 'active' }), messages: [ref(4)] }]);
      expect(await messagesOf(state, 'dev')).toEqual([message(4)]);
    });

    it('keeps payload bytes exactly: all 256 values, empty, 64 KiB', async () => {
      const big = Buffer.alloc(64 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 131 + 7) & 0xff;
      await store.putSession(session('dev'));
      await store.putMessage('dev', message(1, ALL_BYTES, { qos: 0, retain: true }));
      await store.putMessage('dev', message(2, Buffer.alloc(0), { qos: 2 }));
      await store.putMessage('dev', message(3, big, { topic: '' }));
      const state = await restart();
      expect(refsOf(state, 'dev')).toEqual([ref(1, ALL_BYTES), ref(2, Buffer.alloc(0)), ref(3, big)]);
      const loaded = (await messagesOf(state, 'dev')) ?? [];
      expect(loaded.slice(0, 2)).toEqual([message(1, ALL_BYTES, { qos: 0, retain: true }), message(2, Buffer.alloc(0), { qos: 2 })]);
      // Buffer.equals, not toEqual: a deep diff of 64 KiB takes most of a second.
      expect(loaded[2]?.payload.equals(big)).toBe(true);
      expect({ ...loaded[2], payload: undefined }).toEqual({ ...message(3, big, { topic: '' }), payload: undefined });
      expect(loaded.every((m) => Buffer.isBuffer(m.payload))).toBe(true);
    });

    it('keeps unicode topics and client IDs', async () => {
      const clientId = 'capteur-été-温度-🌡️';
      const topic = 'maison/cuisine/温度/🌡️';
      await store.putSession(session(clientId, { topics: [[topic, 3]], subscriptions: [{ filter: 'ü/#', qos: 1, kind: 'name' }] }));
      await store.putMessage(clientId, message(1, Buffer.from('21,5 °C'), { topic }));
      const state = await restart();
      expect(state.sessions).toEqual([
        {
          session: session(clientId, { topics: [[topic, 3]], subscriptions: [{ filter: 'ü/#', qos: 1, kind: 'name' }] }),
          messages: [ref(1, Buffer.from('21,5 °C'))],
        },
      ]);
      expect(await messagesOf(state, clientId)).toEqual([message(1, Buffer.from('21,5 °C'), { topic })]);
    });

    it('copies what it stores: later changes to the caller\'s objects do not leak in', async () => {
      const payload = Buffer.from('before');
      const record = session('dev', { will: { topic: 'w', payload: Buffer.from('will'), qos: 1, retain: false } });
      await store.putSession(record);
      await store.putMessage('dev', message(1, payload));
      payload.write('AFTER!');
      record.will?.payload.write('XXXX');
      record.topics.push(['late', 9]);
      const state = await restart();
      expect(state.sessions[0]?.session.will?.payload).toEqual(Buffer.from('will'));
      expect(state.sessions[0]?.session.topics).toEqual([]);
      expect((await messagesOf(state, 'dev'))?.[0]?.payload).toEqual(Buffer.from('before'));
    });

    it('discards messages of a client without a session record at open', async () => {
      await store.putSession(session('kept'));
      await store.putMessage('kept', message(1));
      await store.putMessage('ghost', message(1));
      expect((await restart()).sessions.map((entry) => entry.session.clientId)).toEqual(['kept']);
      await store.putSession(session('ghost'));
      expect(seqsOf(await restart(), 'ghost')).toEqual([]);
    });

    it('refuses client IDs with NUL and seqs it cannot key, with a StoreError', async () => {
      const badRecord = { name: 'StoreError', code: 'bad-record' };
      await expect(store.putSession(session('a\u0000b'))).rejects.toMatchObject({ ...badRecord, message: expect.stringContaining('NUL') });
      await expect(store.putMessage('a\u0000b', message(1))).rejects.toMatchObject(badRecord);
      await expect(store.deleteSession('a\u0000')).rejects.toMatchObject(badRecord);
      await store.putSession(session('dev'));
      for (const seq of [-1, 1.5, 2 ** 48, Number.NaN]) {
        await expect(store.putMessage('dev', message(seq))).rejects.toMatchObject(badRecord);
      }
      await expect(store.putMessage('dev', message(1, Buffer.alloc(1), { topic: 't'.repeat(65_536) }))).rejects.toMatchObject(badRecord);
      await store.putMessage('dev', message(2 ** 48 - 1));
      expect(seqsOf(await restart(), 'dev')).toEqual([2 ** 48 - 1]);
    });

    it('refuses writes while closed; sync and close are harmless then', async () => {
      await store.putSession(session('dev'));
      await store.sync();
      await store.close();
      await store.close();
      await store.sync();
      await expect(store.putSession(session('x'))).rejects.toMatchObject({ code: 'not-open' });
      await expect(store.putMessage('dev', message(1))).rejects.toMatchObject({ code: 'not-open' });
      await expect(store.deleteMessage('dev', 1)).rejects.toMatchObject({ code: 'not-open' });
      await expect(store.deleteSession('dev')).rejects.toMatchObject({ code: 'not-open' });
      store = makeStore(dir);
      expect((await store.open()).sessions).toHaveLength(1);
    });
  });
}
