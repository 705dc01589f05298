import { describe, expect, it } from 'vitest';
import { PoisonGuard } from '../../src/upstream/poison-guard.js';

describe('finding the publish a broker drops the connection over', () => {
  it('condemns the oldest unacknowledged publish when it heads two drops in a row', () => {
    const guard = new PoisonGuard();
    guard.connected();
    guard.sent(7, 'big');
    guard.sent(8, 'fine');
    expect(guard.dropped()).toBeUndefined(); // once could be a broker restart
    guard.connected();
    guard.sent(7, 'big'); // MQTT.js sends it again after the reconnect
    guard.sent(8, 'fine');
    expect(guard.dropped()).toEqual({ messageId: 7, topic: 'big' });
    guard.connected();
    guard.sent(8, 'fine');
    expect(guard.dropped()).toBeUndefined(); // a new suspect starts from one
  });

  it('an acknowledgement clears the suspect: two unrelated drops condemn nothing', () => {
    const guard = new PoisonGuard();
    guard.sent(1, 'a');
    expect(guard.dropped()).toBeUndefined();
    guard.connected();
    guard.sent(1, 'a');
    guard.acknowledged(1);
    guard.sent(2, 'b');
    expect(guard.dropped()).toBeUndefined();
    guard.connected();
    expect(guard.dropped()).toBeUndefined(); // nothing unacknowledged: nobody to blame
  });
});
