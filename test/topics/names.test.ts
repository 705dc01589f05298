import { describe, expect, it } from 'vitest';
import { decodeText } from '../../src/codec/text.js';
import { isValidClientId, isValidMqttText, isValidTopicFilter, isValidTopicName } from '../../src/topics/names.js';

describe('text a broker accepts', () => {
  it('refuses controls, non-characters and surrogates; accepts ordinary Unicode', () => {
    for (const bad of ['\u0000', '\u0001', '\t', '\n', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f', '\ufdd0', '\ufffe', '\uffff', '\u{1fffe}', '\u{10ffff}', '\ud800', '\udfff']) {
      expect(isValidMqttText(`a${bad}b`), JSON.stringify(bad)).toBe(false);
    }
    for (const good of ['sensors/kitchen/temp', 'ü/ø/日本', '\u00a0', '\ufffd', '😀/x', ' ']) expect(isValidMqttText(good), good).toBe(true);
  });

  it('refuses text longer than an MQTT string can carry (65,535 octets)', () => {
    expect(isValidMqttText('a'.repeat(65_535))).toBe(true);
    expect(isValidMqttText('a'.repeat(65_536))).toBe(false);
    expect(isValidMqttText('é'.repeat(32_768))).toBe(false); // 65,536 octets in 32,768 characters
  });

  it('refuses topics and filters deeper than 100 levels (mosquitto drops the connection past 200; the matcher stops at 100)', () => {
    expect(isValidTopicName('a/'.repeat(99) + 'z')).toBe(true); // 100 levels
    expect(isValidTopicName('a/'.repeat(100) + 'z')).toBe(false); // 101
    expect(isValidTopicFilter('a/'.repeat(99) + '#')).toBe(true);
    expect(isValidTopicFilter('a/'.repeat(150) + '#')).toBe(false);
    expect(isValidTopicName('x'.repeat(5000))).toBe(true); // long is fine, deep is not
  });

  it('names, filters and client IDs use it', () => {
    expect(isValidTopicName('a/\tb')).toBe(false);
    expect(isValidTopicFilter('a/\u0085/#')).toBe(false);
    expect(isValidTopicFilter('a/+/#')).toBe(true);
    expect(isValidClientId('dev\u0000')).toBe(false);
    expect(isValidClientId('')).toBe(false);
    expect(isValidClientId('dev-1')).toBe(true);
  });
});

describe('decoding text fields', () => {
  it('valid UTF-8, U+FFFD included, decodes as sent', () => {
    const bytes = Buffer.from('a/\ufffd/ü', 'utf8');
    expect(decodeText(bytes, 0, bytes.length)).toBe('a/\ufffd/ü');
  });

  it('invalid UTF-8 decodes to text the validation refuses, never to a repaired name', () => {
    for (const bytes of [Buffer.from([0x61, 0x80]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc3]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80])]) {
      const text = decodeText(bytes, 0, bytes.length);
      expect(isValidTopicName(text), bytes.toString('hex')).toBe(false);
    }
  });
});
