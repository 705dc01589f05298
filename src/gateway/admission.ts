/**
 * Admission control under overload. UDP gives no back-pressure: when the gateway falls behind,
 * the kernel drops datagrams silently, QoS 1 devices time out and retry, and the retries make it
 * worse. So the gateway watches for two signs of falling behind and then answers a share of QoS 1
 * publishes "rejected: congestion" (MQTT-SN 1.2 §6.13): devices learn to back off instead of
 * timing out. QoS 0 is left alone: shedding it here cannot make the socket drain faster when
 * reading is the bottleneck, and measured, it only collapsed QoS 0 delivery.
 *
 * Signs of overload, sampled every `SAMPLE_MS`:
 * - full event-loop turns: libuv reads at most 32 datagrams per socket per turn, so turns that
 *   keep hitting that mark mean the socket's receive queue is not draining;
 * - upstream backlog: bytes waiting for the broker's TCP connection (the broker is the bottleneck).
 * The refused share moves up in steps while overloaded and back down when not (AIMD-like), so
 * delivery settles near what the gateway and broker can actually carry.
 */
export const SAMPLE_MS = 100;
/** libuv's per-socket read batch (uv__udp_io): a turn with this many datagrams left some behind. */
export const FULL_TURN_DATAGRAMS = 32;
/** More than this many bytes waiting for the broker means the broker does not keep up. */
export const MAX_UPSTREAM_BACKLOG_BYTES = 1 << 20;
const STEP_UP = 0.1;
const STEP_DOWN = 0.05;

export class Admission {
  /** Share of QoS 1 publishes refused now, 0..1. */
  refuseShare = 0;
  private turns = 0;
  private fullTurns = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** One event-loop turn ended having received `datagrams` frames. */
  endTurn(datagrams: number): void {
    this.turns++;
    if (datagrams >= FULL_TURN_DATAGRAMS) this.fullTurns++;
  }

  /** Every SAMPLE_MS: decide whether the gateway is falling behind and adjust the refused share. */
  sample(upstreamBacklogBytes: number): void {
    const behind = (this.turns > 0 && this.fullTurns * 2 > this.turns) || upstreamBacklogBytes > MAX_UPSTREAM_BACKLOG_BYTES;
    this.refuseShare = behind ? Math.min(1, this.refuseShare + STEP_UP) : Math.max(0, this.refuseShare - STEP_DOWN);
    this.turns = 0;
    this.fullTurns = 0;
  }

  /** Whether to take this QoS 1 publish; false means answer it with congestion. */
  admit(): boolean {
    return this.refuseShare === 0 || this.random() >= this.refuseShare;
  }
}
