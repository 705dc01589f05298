/** MQTT topic name and filter rules (MQTT 3.1.1 §4.7), as MQTT-SN inherits them. */

export function hasWildcard(topic: string): boolean {
  return topic.includes('+') || topic.includes('#');
}

/**
 * Characters a broker refuses in a topic, filter or client ID, so that forwarding one would cost
 * every device the shared connection (mosquitto drops it as a malformed packet). MQTT 3.1.1 §1.5.3
 * and MQTT 5 §1.5.4: U+0000 and (SHOULD NOT, enforced by brokers) controls U+0001-U+001F and
 * U+007F-U+009F, non-characters, and surrogates: which is also what the codec turns invalid UTF-8
 * into, so a name that arrived as invalid UTF-8 is refused here (see codec/text.ts).
 */
const FORBIDDEN = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;

/** MQTT strings carry a two-octet length (MQTT 3.1.1 §1.5.3). */
export const MAX_MQTT_STRING_OCTETS = 0xffff;

/**
 * Levels in a topic or filter. MQTT sets no limit, but brokers do: mosquitto 2.0 drops the
 * connection over a topic with more than 200 '/' ("protocol error"), and the gateway's own topic
 * matcher (qlobber) refuses more than 100 levels.
 */
export const MAX_TOPIC_LEVELS = 100;

/** Text a broker takes as a topic, filter or client ID: valid UTF-8, no control or non-characters, not too long. */
export function isValidMqttText(text: string): boolean {
  return !FORBIDDEN.test(text) && (text.length <= MAX_MQTT_STRING_OCTETS / 3 || Buffer.byteLength(text, 'utf8') <= MAX_MQTT_STRING_OCTETS);
}

/** At most MAX_TOPIC_LEVELS levels (cheap for the usual short topics: fewer characters than that cannot have more levels). */
export function hasAcceptableDepth(topic: string): boolean {
  if (topic.length < MAX_TOPIC_LEVELS) return true;
  let separators = 0;
  for (let at = topic.indexOf('/'); at !== -1; at = topic.indexOf('/', at + 1)) if (++separators >= MAX_TOPIC_LEVELS) return false;
  return true;
}

/** A name a message can be published on: non-empty, no wildcards, nothing a broker refuses. */
export function isValidTopicName(name: string): boolean {
  return name.length > 0 && !hasWildcard(name) && isValidMqttText(name) && hasAcceptableDepth(name);
}

/** A client ID the gateway can keep and the broker accepts (MQTT-SN 1.2 §5.3.1 says 1-23 characters; longer ones are accepted as brokers do). */
export function isValidClientId(clientId: string): boolean {
  return clientId.length > 0 && isValidMqttText(clientId);
}

/** A subscription filter: `+` fills a whole level, `#` only as the whole last level. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || !isValidMqttText(filter) || !hasAcceptableDepth(filter)) return false;
  const levels = filter.split('/');
  return levels.every((level, index) => {
    if (level.includes('#')) return level === '#' && index === levels.length - 1;
    if (level.includes('+')) return level === '+';
    return true;
  });
}

/** Short topic names are exactly two octets (MQTT-SN 1.2 §3 "short topic name"). */
export function isShortTopicName(name: string): boolean {
  return Buffer.byteLength(name, 'utf8') === 2;
}
