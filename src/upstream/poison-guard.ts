/**
 * Finds a publish the broker drops the connection over. A broker closes the connection at a
 * packet it cannot take (too large for its max_packet_size, a name it refuses), and MQTT.js
 * sends every unacknowledged QoS 1/2 publish again after the reconnect: without this, one such
 * message takes the shared link down again and again. The oldest publish sent and unacknowledged
 * when an established connection drops is the suspect; the same suspect at `dropsToCondemn`
 * drops in a row is condemned. An acknowledgement clears it. Pure bookkeeping, no I/O.
 */
export class PoisonGuard {
  /** Message ID -> topic, in the order sent on the current connection. */
  private readonly unacked = new Map<number, string>();
  private suspect: { id: number; drops: number } | undefined;

  constructor(private readonly dropsToCondemn = 2) {}

  /** A new connection: what was unacknowledged is sent again and re-enters the list as it goes. */
  connected(): void {
    this.unacked.clear();
  }

  sent(messageId: number, topic: string): void {
    this.unacked.delete(messageId);
    this.unacked.set(messageId, topic);
  }

  acknowledged(messageId: number): void {
    this.unacked.delete(messageId);
    if (this.suspect?.id === messageId) this.suspect = undefined;
  }

  /** An established connection dropped: the condemned publish, if it is time to give up on one. */
  dropped(): { messageId: number; topic: string } | undefined {
    const oldest = this.unacked.entries().next().value;
    if (oldest === undefined) {
      this.suspect = undefined;
      return undefined;
    }
    const [messageId, topic] = oldest;
    this.suspect = this.suspect?.id === messageId ? { id: messageId, drops: this.suspect.drops + 1 } : { id: messageId, drops: 1 };
    if (this.suspect.drops < this.dropsToCondemn) return undefined;
    this.suspect = undefined;
    this.unacked.delete(messageId);
    return { messageId, topic };
  }
}
