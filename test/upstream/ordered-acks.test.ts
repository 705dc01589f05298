import { describe, expect, it } from 'vitest';
import { OrderedAcks } from '../../src/upstream/ordered-acks.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('OrderedAcks', () => {
  it('sends acknowledgements in the order the messages came, each once its own work is done (MQTT 3.1.1 §4.6)', async () => {
    const acks = new OrderedAcks();
    const sent: string[] = [];
    const first = deferred();
    const second = deferred();
    acks.hold('puback', 1, first.promise);
    expect(acks.release('puback', 1, () => sent.push('puback 1'), () => sent.push('failed 1'))).toBe(true);
    acks.hold('pubcomp', 2, second.promise);
    expect(acks.release('pubcomp', 2, () => sent.push('pubcomp 2'), () => sent.push('failed 2'))).toBe(true);
    second.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([]); // the second is done, but the first is not
    first.resolve();
    await acks.drained();
    expect(sent).toEqual(['puback 1', 'pubcomp 2']);
  });

  it('failed work sends nothing for that message and does not hold back the next', async () => {
    const acks = new OrderedAcks();
    const sent: string[] = [];
    const failing = deferred();
    acks.hold('puback', 1, failing.promise);
    acks.release('puback', 1, () => sent.push('puback 1'), (error) => sent.push(`failed 1: ${error.message}`));
    acks.hold('puback', 2, Promise.resolve());
    acks.release('puback', 2, () => sent.push('puback 2'), () => sent.push('failed 2'));
    failing.reject(new Error('disk full'));
    await acks.drained();
    expect(sent).toEqual(['failed 1: disk full', 'puback 2']);
  });

  it('an acknowledgement nobody held is sent at once, and a cleared one is no longer held', () => {
    const acks = new OrderedAcks();
    expect(acks.release('puback', 5, () => undefined, () => undefined)).toBe(false);
    acks.hold('puback', 6, new Promise(() => undefined));
    acks.clear();
    expect(acks.release('puback', 6, () => undefined, () => undefined)).toBe(false);
  });
});
