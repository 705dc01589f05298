/**
 * Runs async jobs one at a time, in call order. The client keeps one lane per request kind
 * because MQTT-SN lets a client have only one REGISTER, one QoS 1 PUBLISH and one
 * SUBSCRIBE/UNSUBSCRIBE outstanding at a time (MQTT-SN 1.2 §6.5, §6.9, §6.13).
 */
export class Lane {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    // A failed job must not poison the jobs queued behind it.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
