import { describe, expect, it } from 'vitest';
import { topicMatches } from '../../src/topics/match.js';
import { isShortTopicName, isValidTopicFilter } from '../../src/topics/names.js';

describe('topicMatches (MQTT 3.1.1 §4.7)', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'a/b', true],
    ['+/+', 'a/b', true],
    ['+', '/a', false],
    ['a/+/c', 'a//c', true],
    ['#', '$SYS/uptime', false],
    ['+/uptime', '$SYS/uptime', false],
    ['$SYS/#', '$SYS/uptime', true],
    ['a/b', 'a/b/c', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('topic name rules', () => {
  it('accepts only well-formed filters', () => {
    expect(isValidTopicFilter('a/+/b/#')).toBe(true);
    expect(isValidTopicFilter('a/#/b')).toBe(false);
    expect(isValidTopicFilter('a/b+')).toBe(false);
    expect(isValidTopicFilter('')).toBe(false);
  });

  it('counts short names in UTF-8 octets', () => {
    expect(isShortTopicName('ab')).toBe(true);
    expect(isShortTopicName('é')).toBe(true); // C3 A9
    expect(isShortTopicName('abc')).toBe(false);
  });
});
