import { describe, expect, it } from 'vitest';
import { makePeer } from '../../src/gateway/peer.js';
import { Session } from '../../src/gateway/session.js';
import { deviceViews } from '../../src/monitor/device-view.js';
import { PredefinedTopics } from '../../src/topics/predefined.js';
import { MemoryRadio } from '../helpers/memory-radio.js';

const radio = new MemoryRadio();
const session = (clientId: string, lastSeen: number): Session => new Session(clientId, makePeer(radio, `10.0.0.1:${1000 + lastSeen}`), new PredefinedTopics([]), lastSeen);

describe('device list for /api/status', () => {
  it('beyond the limit, the devices heard from most recently, newest first, and the total', () => {
    // Shuffled times, with ties at the cut-off.
    const sessions = [5, 1, 9, 7, 7, 3, 8, 2].map((t, i) => session(`d${i}`, t));
    const { total, devices } = deviceViews(sessions, 4);
    expect(total).toBe(8);
    expect(devices.map((d) => [d.clientId, Date.parse(d.lastSeen)])).toEqual([
      ['d2', 9],
      ['d6', 8],
      ['d3', 7],
      ['d4', 7],
    ]);
  });

  it('within the limit, all of them; limit 0 gives none but the total', () => {
    const sessions = [3, 1, 2].map((t, i) => session(`d${i}`, t));
    expect(deviceViews(sessions, 10).devices.map((d) => d.clientId)).toEqual(['d0', 'd2', 'd1']);
    expect(deviceViews(sessions, 0)).toEqual({ total: 3, devices: [] });
  });
});
