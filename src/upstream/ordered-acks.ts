/**
 * Acknowledgements of broker messages that wait for the gateway's work (a store write for an absent
 * device) without holding up the rest of the connection.
 *
 * MQTT.js handles incoming packets one at a time and sends PUBACK when `handleMessage` calls back:
 * left as it is, one message waiting for the disk holds every packet behind it, including the
 * broker's PUBACKs for other devices' publishes (head-of-line blocking on the shared connection).
 * Here `handleMessage` calls back at once and the PUBACK (or PUBCOMP) itself waits: for its own
 * work and for every acknowledgement before it, because MQTT 3.1.1 §4.6 wants PUBACKs in the order
 * the PUBLISHes came. The broker's in-flight window still bounds how many wait.
 */
export class OrderedAcks {
  private readonly held = new Map<string, Promise<unknown>>();
  private tail: Promise<unknown> = Promise.resolve();

  /** The acknowledgement for `messageId` of type `cmd` must wait for `work`. */
  hold(cmd: 'puback' | 'pubcomp', messageId: number, work: Promise<unknown>): void {
    this.held.set(`${cmd}:${messageId}`, work);
  }

  /**
   * MQTT.js is about to send `cmd` for `messageId`: false when nothing holds it (send now);
   * otherwise true, and `send` runs once its work and every earlier held acknowledgement are done.
   * Failed work sends nothing (the broker sends the message again after a reconnect, as before).
   */
  release(cmd: string, messageId: number | undefined, send: () => void, failed: (error: Error) => void): boolean {
    // Every packet the gateway sends passes here (each device PUBLISH): no key built when nothing waits.
    if (this.held.size === 0) return false;
    const key = `${cmd}:${messageId}`;
    const work = this.held.get(key);
    if (!work) return false;
    this.held.delete(key);
    this.tail = this.tail.then(() => work).then(send, failed).catch(() => undefined);
    return true;
  }

  /** Settles once every acknowledgement released so far is sent (or dropped). */
  async drained(): Promise<void> {
    await this.tail;
  }

  /** The connection is gone: what was held belongs to it (the broker resends unacknowledged messages). */
  clear(): void {
    this.held.clear();
  }
}
