/** Counters a user checks when something goes missing: every drop is counted somewhere here. */
export interface GatewayStats {
  datagramsIn: number;
  datagramsOut: number;
  /** Frames that failed to decode (dropped). */
  malformed: number;
  /** Decodable frames that made no sense in the device's state (dropped). */
  unexpected: number;
  /** Frames larger than limits.maxMessageSize (dropped). */
  oversized: number;
  publishesIn: number;
  publishesOut: number;
  /** publishesIn split by the device's QoS (-1 is a publish without a connection, MQTT-SN 1.2 §6.8). */
  publishesInQosMinus1: number;
  publishesInQos0: number;
  publishesInQos1: number;
  publishesInQos2: number;
  /** publishesOut split by QoS toward the device. */
  publishesOutQos0: number;
  publishesOutQos1: number;
  publishesOutQos2: number;
  /** Sleeping devices that woke up to collect their messages (PINGREQ with a client ID, §6.14). */
  wakeUps: number;
  /** Times the shared broker connection came back after it had been connected. */
  upstreamReconnects: number;
  /** Device publishes refused with "rejected: congestion". */
  congestion: number;
  /** Datagrams the operating system dropped because the gateway did not read them in time. */
  kernelDrops: number;
  /** Datagrams dropped unread while the radio was overloaded: their address sent beyond its fair share. */
  datagramsShed: number;
  /**
   * Device QoS 0/-1 publishes dropped because the broker connection was behind (over 50 ms of
   * queue, or 256 KiB waiting): dropped at once rather than delivered late.
   */
  qos0Shed: number;
  /** Device publishes refused: an unknown topic ID, or a short name a broker would refuse. */
  invalidTopic: number;
  /** QoS -1 publishes dropped (disabled, or topic not predefined/short). */
  qosMinusOneDropped: number;
  /** Messages for a device dropped because its queue was full (all reasons; the next five split it). */
  queueDropped: number;
  /** ... at the device's own bound (buffer.maxMessages / maxBytes, buffer.overflow decides which). */
  queueDroppedDeviceBound: number;
  /** ... at the gateway-wide bounds (buffer.totalMessages / totalBytes, memoryMessages / memoryBytes). */
  queueDroppedGatewayBound: number;
  /** ... for an absent device while the store was behind (too many writes waiting). */
  queueDroppedStoreBehind: number;
  /** ... for a device that is gone (disconnected or lost) with a full buffer: kept what it had. */
  queueDroppedGone: number;
  /** ... QoS 0 for a sleeping device with buffer.qos0: drop. */
  queueDroppedQos0: number;
  /** Messages for an absent device the store could not write: kept in memory only (lost if the gateway stops). */
  storeFailed: number;
  /** Deliveries abandoned after the retries ran out or the device refused the topic. */
  deliveryFailed: number;
  /** Frames the gateway could not encode (e.g. too long for the radio). */
  encodeFailed: number;
  willsPublished: number;
  sessionsLost: number;
  /** Lost or disconnected sessions deleted to admit a new device when limits.maxClients was reached. */
  sessionsEvicted: number;
  /** Lost or disconnected sessions deleted after limits.sessionExpiry. */
  sessionsExpired: number;
  /**
   * Times a gone device stopped receiving (its filters left the routing table) because a message
   * for it had to be dropped; it is routed again when it comes back.
   */
  sessionsParked: number;
  /**
   * Client IDs, will topics, REGISTER names and SUBSCRIBE filters refused because a broker would
   * refuse them (control characters, non-characters, invalid UTF-8, too long) and drop the gateway.
   */
  refusedNames: number;
  /** CONNECT, PUBLISH, SUBSCRIBE or QoS -1 refused by the access rules (config `access`). */
  accessDenied: number;
  /** QoS 1/2 device messages written to the store because the broker was unreachable. */
  forwardStored: number;
  /** Held messages the broker acknowledged once it was back. */
  forwardDelivered: number;
  /** Device messages the broker closed the connection over twice in a row: dropped, never sent again (device: PUBACK "not supported"). */
  brokerRefused: number;
  /** Held messages discarded: QoS 0 with `forward.qos0: drop`, or the oldest at the bound with `drop-oldest`. */
  forwardDropped: number;
  /** Device publishes answered "rejected: congestion" because the store for the broker was full. */
  forwardRefused: number;
}

export function emptyStats(): GatewayStats {
  return {
    datagramsIn: 0,
    datagramsOut: 0,
    malformed: 0,
    unexpected: 0,
    oversized: 0,
    publishesIn: 0,
    publishesOut: 0,
    publishesInQosMinus1: 0,
    publishesInQos0: 0,
    publishesInQos1: 0,
    publishesInQos2: 0,
    publishesOutQos0: 0,
    publishesOutQos1: 0,
    publishesOutQos2: 0,
    wakeUps: 0,
    upstreamReconnects: 0,
    congestion: 0,
    kernelDrops: 0,
    datagramsShed: 0,
    qos0Shed: 0,
    invalidTopic: 0,
    qosMinusOneDropped: 0,
    queueDropped: 0,
    queueDroppedDeviceBound: 0,
    queueDroppedGatewayBound: 0,
    queueDroppedStoreBehind: 0,
    queueDroppedGone: 0,
    queueDroppedQos0: 0,
    storeFailed: 0,
    deliveryFailed: 0,
    encodeFailed: 0,
    willsPublished: 0,
    sessionsLost: 0,
    sessionsEvicted: 0,
    sessionsParked: 0,
    sessionsExpired: 0,
    refusedNames: 0,
    accessDenied: 0,
    forwardStored: 0,
    forwardDelivered: 0,
    brokerRefused: 0,
    forwardDropped: 0,
    forwardRefused: 0,
  };
}
