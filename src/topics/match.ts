/**
 * Does MQTT topic filter `filter` match topic name `topic` (MQTT 3.1.1 §4.7)?
 * Wildcards in the first level never match topics starting with `$` (§4.7.2).
 */
export function topicMatches(filter: string, topic: string): boolean {
  return matcherFor(topic)(filter);
}

/** `topicMatches` against one topic for many filters: the topic is split once. */
export function matcherFor(topic: string): (filter: string) => boolean {
  const dollar = topic.startsWith('$');
  const topicLevels = topic.split('/');
  return (filter) => !(dollar && (filter.startsWith('+') || filter.startsWith('#'))) && levelsMatch(filter.split('/'), topicLevels);
}

function levelsMatch(filterLevels: readonly string[], topicLevels: readonly string[]): boolean {
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i];
    if (level === '#') return true;
    if (i >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}
