/**
 * MQTT-SN v1.2 packets as plain data, one discriminated union tagged by `type`.
 * Field names follow the spec (MQTT-SN 1.2 §5.3, §5.4); see ../shared/mqtt-sn-reference.md.
 * Multi-byte integers are unsigned 16-bit, big-endian on the wire.
 */

/** QoS as carried in the flags octet: bits `11` mean QoS -1 (publish without connection, §6.8). */
export type Qos = -1 | 0 | 1 | 2;

/** Return codes of CONNACK, REGACK, PUBACK, SUBACK, WILLTOPICRESP, WILLMSGRESP (§5.3.10). */
export const ReturnCode = {
  Accepted: 0x00,
  Congestion: 0x01,
  InvalidTopicId: 0x02,
  NotSupported: 0x03,
} as const;
export type ReturnCode = number;

/** How a PUBLISH names its topic (flags bits 1-0, §5.3.4). */
export type PublishTopic =
  | { readonly kind: 'normal'; readonly id: number }
  | { readonly kind: 'predefined'; readonly id: number }
  /** Exactly two octets of UTF-8, carried in the TopicId field. */
  | { readonly kind: 'short'; readonly name: string };

/** How a SUBSCRIBE/UNSUBSCRIBE names its topic: type `00` carries a full name or filter. */
export type SubscribeTopic =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'predefined'; readonly id: number }
  | { readonly kind: 'short'; readonly name: string };

export interface Advertise { readonly type: 'advertise'; readonly gwId: number; readonly duration: number }
export interface SearchGw { readonly type: 'searchgw'; readonly radius: number }
/** `gwAdd` is empty when a gateway answers for itself; clients answering for a gateway fill it. */
export interface GwInfo { readonly type: 'gwinfo'; readonly gwId: number; readonly gwAdd: Buffer }

export interface Connect {
  readonly type: 'connect';
  readonly will: boolean;
  readonly cleanSession: boolean;
  /** 0x01 for v1.2; decoded as sent so the gateway can refuse others with CONNACK 0x03. */
  readonly protocolId: number;
  /** Keep-alive in seconds; 0 disables supervision. */
  readonly duration: number;
  readonly clientId: string;
}
export interface Connack { readonly type: 'connack'; readonly returnCode: ReturnCode }
export interface WillTopicReq { readonly type: 'willtopicreq' }
/** An empty `topic` is the two-octet empty form: "no will" / delete the stored will. */
export interface WillTopic { readonly type: 'willtopic'; readonly qos: Qos; readonly retain: boolean; readonly topic: string }
export interface WillMsgReq { readonly type: 'willmsgreq' }
export interface WillMsg { readonly type: 'willmsg'; readonly payload: Buffer }

export interface Register { readonly type: 'register'; readonly topicId: number; readonly msgId: number; readonly topicName: string }
export interface Regack { readonly type: 'regack'; readonly topicId: number; readonly msgId: number; readonly returnCode: ReturnCode }

export interface Publish {
  readonly type: 'publish';
  readonly dup: boolean;
  readonly qos: Qos;
  readonly retain: boolean;
  readonly topic: PublishTopic;
  /** 0 for QoS 0 and -1. */
  readonly msgId: number;
  readonly payload: Buffer;
}
export interface Puback { readonly type: 'puback'; readonly topicId: number; readonly msgId: number; readonly returnCode: ReturnCode }
export interface Pubcomp { readonly type: 'pubcomp'; readonly msgId: number }
export interface Pubrec { readonly type: 'pubrec'; readonly msgId: number }
export interface Pubrel { readonly type: 'pubrel'; readonly msgId: number }

export interface Subscribe {
  readonly type: 'subscribe';
  readonly dup: boolean;
  /** Requested QoS; -1 is decoded so the gateway can refuse it with SUBACK 0x03. */
  readonly qos: Qos;
  readonly msgId: number;
  readonly topic: SubscribeTopic;
}
export interface Suback { readonly type: 'suback'; readonly qos: Qos; readonly topicId: number; readonly msgId: number; readonly returnCode: ReturnCode }
export interface Unsubscribe { readonly type: 'unsubscribe'; readonly msgId: number; readonly topic: SubscribeTopic }
export interface Unsuback { readonly type: 'unsuback'; readonly msgId: number }

/** `clientId` is present when a sleeping client wakes up (§6.14). */
export interface PingReq { readonly type: 'pingreq'; readonly clientId?: string }
export interface PingResp { readonly type: 'pingresp' }
/** `duration` (seconds) is present when the client goes to sleep (§6.14). */
export interface Disconnect { readonly type: 'disconnect'; readonly duration?: number }

/** An empty `topic` is the two-octet empty form: delete the will (§6.4). */
export interface WillTopicUpd { readonly type: 'willtopicupd'; readonly qos: Qos; readonly retain: boolean; readonly topic: string }
export interface WillTopicResp { readonly type: 'willtopicresp'; readonly returnCode: ReturnCode }
export interface WillMsgUpd { readonly type: 'willmsgupd'; readonly payload: Buffer }
export interface WillMsgResp { readonly type: 'willmsgresp'; readonly returnCode: ReturnCode }

/** Forwarder encapsulation (0xFE, §5.5): a whole MQTT-SN message relayed for a wireless node. */
export interface Encapsulated {
  readonly type: 'encapsulated';
  /** Broadcast radius, Ctrl bits 1-0 (meaningful gateway to forwarder only). */
  readonly radius: number;
  readonly wirelessNodeId: Buffer;
  readonly packet: InnerPacket;
}

export type Packet =
  | Advertise | SearchGw | GwInfo
  | Connect | Connack | WillTopicReq | WillTopic | WillMsgReq | WillMsg
  | Register | Regack
  | Publish | Puback | Pubcomp | Pubrec | Pubrel
  | Subscribe | Suback | Unsubscribe | Unsuback
  | PingReq | PingResp | Disconnect
  | WillTopicUpd | WillTopicResp | WillMsgUpd | WillMsgResp
  | Encapsulated;

/** Encapsulation never nests (§5.5). */
export type InnerPacket = Exclude<Packet, Encapsulated>;
export type PacketType = Packet['type'];

/** Message type codes on the wire (§5.2.2). */
export const MsgType = {
  advertise: 0x00,
  searchgw: 0x01,
  gwinfo: 0x02,
  connect: 0x04,
  connack: 0x05,
  willtopicreq: 0x06,
  willtopic: 0x07,
  willmsgreq: 0x08,
  willmsg: 0x09,
  register: 0x0a,
  regack: 0x0b,
  publish: 0x0c,
  puback: 0x0d,
  pubcomp: 0x0e,
  pubrec: 0x0f,
  pubrel: 0x10,
  subscribe: 0x12,
  suback: 0x13,
  unsubscribe: 0x14,
  unsuback: 0x15,
  pingreq: 0x16,
  pingresp: 0x17,
  disconnect: 0x18,
  willtopicupd: 0x1a,
  willtopicresp: 0x1b,
  willmsgupd: 0x1c,
  willmsgresp: 0x1d,
  encapsulated: 0xfe,
} as const satisfies Record<PacketType, number>;
