/** MQTT topic name and filter rules (MQTT 3.1.1 §4.7), as MQTT-SN inherits them. */

export function hasWildcard(topic: string): boolean {
  return topic.includes('+') || topic.includes('#');
}

/** A name a message can be published on: non-empty, no wildcards, no NUL. */
export function isValidTopicName(name: string): boolean {
  return name.length > 0 && !hasWildcard(name) && !name.includes('\u0000');
}

/** A subscription filter: `+` fills a whole level, `#` only as the whole last level. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
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
