import { isUtf8 } from 'node:buffer';

/** A lone surrogate: no valid UTF-8 decodes to it, and topics/names.ts refuses any text holding one. */
const INVALID_UTF8_MARK = '\uD800';

/**
 * A UTF-8 text field (client ID, topic name, filter; MQTT-SN 1.2 §5.3.1). Invalid UTF-8 is not
 * silently repaired with U+FFFD (the broker would then get a different name than the device
 * sent): it decodes to text marked with a lone surrogate, which name validation refuses with the
 * right return code. Valid text costs one scan for U+FFFD.
 */
export function decodeText(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, end);
  if (!text.includes('\uFFFD') || isUtf8(buf.subarray(start, end))) return text;
  return INVALID_UTF8_MARK + text;
}
