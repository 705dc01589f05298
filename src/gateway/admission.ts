import type { Upstream } from '../upstream/upstream.js';

/**
 * Admission control under overload. UDP gives no back-pressure: when the gateway falls behind,
 * the kernel drops datagrams silently and QoS 1 devices time out and retry, which makes it
 * worse. So when the gateway sees it is losing datagrams, it answers a share of QoS 1 publishes
 * "rejected: congestion" (MQTT-SN 1.2 §6.13): devices back off instead of timing out, and the
 * work they stop sending frees the gateway.
 *
 * Signs of overload, sampled every `SAMPLE_MS`:
 * - datagrams the kernel dropped on a radio's socket since the last sample (Linux reports them);
 * - upstream backlog: bytes waiting for the broker's TCP connection (the broker is the bottleneck).
 * Two other signals were tried and measured first. Event-loop utilisation and "turns that read
 * a full batch of datagrams" both fire on a gateway that is busy but keeping up, and refusing
 * then only added retries: at 10,000 QoS 1 msg/s from 10,000 devices it set off a retry storm.
 * QoS 0 is not shed on these signals: that cannot make the socket drain faster when reading is
 * the bottleneck, and measured, it only collapsed QoS 0 delivery. It is shed on the broker's queue
 * delay instead (`shedsQos0`, below), where waiting is what it would do.
 *
 * The share falls on the devices that send: one publishing at most LIGHT_PUBLISHES_PER_SAMPLE
 * QoS 1/2 messages per sample (a sensor reporting every few seconds, as most do) is never refused,
 * so a flood from some devices does not turn into "congestion" for the quiet ones.
 */
export const SAMPLE_MS = 1000;
/**
 * Drops count as overload only above this share of what arrived: a short stall (a GC pause, a
 * burst) loses a few datagrams without the gateway being overloaded, and refusing then only adds
 * the refused messages' retries (measured: a retry storm at 10,000 devices x 1 msg/s).
 */
export const OVERLOAD_DROP_SHARE = 0.01;

/** Whether `lost` datagrams against `read` ones is a loss beyond a short stall's (OVERLOAD_DROP_SHARE). */
export function isLossy(lost: number, read: number): boolean {
  return lost > OVERLOAD_DROP_SHARE * (lost + read);
}

/** More than this many bytes waiting for the broker means the broker does not keep up. */
export const MAX_UPSTREAM_BACKLOG_BYTES = 1 << 20;
/**
 * QoS 0 (and -1) readings wait at most this long in the queue to the broker: beyond it a new one is
 * dropped at once and counted (`qos0Shed`), never queued. A reading delivered seconds late is
 * worth less than one dropped and counted, and the queue would cost memory (issue 17: flat out,
 * QoS 0 waited 3 s behind a broker that did not keep up). QoS 1/2 are never shed: they get
 * "rejected: congestion" through the share above, and the device keeps them.
 */
export const MAX_QOS0_QUEUE_DELAY_MS = 50;
/** ... or once this many bytes wait in the gateway itself for the broker's connection (a broker that stopped reading). */
export const MAX_QOS0_BACKLOG_BYTES = 256 * 1024;
/** A broker queue this long is overload for QoS 1 too, even with no QoS 0 to shed (a QoS 1 flood alone). */
export const MAX_QOS1_QUEUE_DELAY_MS = 250;
/** Under sustained overload, a radio's receive queue holds what the gateway reads in this long (see Gateway.boundReceiveQueue). */
export const MAX_RECEIVE_WAIT_MS = 30;
/** Event-loop busy share from which the gateway does nothing but keep up (see Gateway.boundReceiveQueue). */
export const SATURATED_LOOP = 0.9;

/** Whether a QoS 0 publish for `link` is to be dropped because the broker is behind (only while connected: offline, store-and-forward's policy decides). */
export function shedsQos0(link: Pick<Upstream, 'state' | 'queueDelayMs' | 'backlogBytes'>): boolean {
  return link.state === 'connected' && (link.queueDelayMs() > MAX_QOS0_QUEUE_DELAY_MS || link.backlogBytes > MAX_QOS0_BACKLOG_BYTES);
}

/**
 * QoS 1/2 publishes per sample a device may send and never be refused: a publish and its
 * retransmission (T_RETRY is often 1 s, and a sample lasts a little longer than SAMPLE_MS), so a
 * quiet device whose first try was lost is not told "congestion" for its next message (seen in the
 * fuzz run with 1).
 */
export const LIGHT_PUBLISHES_PER_SAMPLE = 2;
const STEP_UP = 0.2;

/** What admission keeps on each device: its publishes in the current sample. */
export interface PublishTally {
  tallySample: number;
  tallyCount: number;
}
const STEP_DOWN = 0.1;

export class Admission {
  /** Share of QoS 1 publishes refused now, 0..1. */
  refuseShare = 0;
  /** Number of the current sample, so a device's tally restarts without a sweep over devices. */
  private sampleNumber = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /**
   * Every SAMPLE_MS: datagrams dropped by the kernel and datagrams received since the last
   * sample, the upstream backlog, and whether the broker fell behind (QoS 0 was shed for it, or
   * its queue is MAX_QOS1_QUEUE_DELAY_MS long): heavy QoS 1 senders then make room instead of
   * taking what the shed readings left (issue 17: flat-out QoS 1 took 27,700 msg/s of the broker
   * while 10,000 QoS 0 readings a second were shed, and was never told "congestion").
   */
  sample(droppedDatagrams: number, receivedDatagrams: number, upstreamBacklogBytes: number, brokerBehind = false): void {
    this.sampleNumber++;
    const overloaded = isLossy(droppedDatagrams, receivedDatagrams) || brokerBehind || upstreamBacklogBytes > MAX_UPSTREAM_BACKLOG_BYTES;
    this.refuseShare = overloaded ? Math.min(1, this.refuseShare + STEP_UP) : Math.max(0, this.refuseShare - STEP_DOWN);
  }

  /** Whether to take this QoS 1/2 publish from `device`; false means answer it with congestion. */
  admit(device?: PublishTally): boolean {
    if (device) {
      if (device.tallySample !== this.sampleNumber) {
        device.tallySample = this.sampleNumber;
        device.tallyCount = 0;
      }
      if (++device.tallyCount <= LIGHT_PUBLISHES_PER_SAMPLE) return true;
    }
    return this.refuseShare === 0 || this.random() >= this.refuseShare;
  }
}
