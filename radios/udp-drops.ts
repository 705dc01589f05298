import { readFile } from 'node:fs/promises';

/**
 * Datagrams the Linux kernel dropped on a UDP socket because its receive queue was full: the
 * `drops` column of /proc/net/udp (or udp6) on the line of the socket bound to `port`.
 * undefined where the platform does not tell (not Linux, or no such line).
 */
export async function kernelDrops(family: 'udp4' | 'udp6', port: number): Promise<number | undefined> {
  let table: string;
  try {
    table = await readFile(family === 'udp4' ? '/proc/net/udp' : '/proc/net/udp6', 'latin1');
  } catch {
    return undefined;
  }
  // Local address is HEXADDR:HEXPORT; a plain substring search keeps this cheap with many sockets.
  const needle = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (let at = table.indexOf(needle); at >= 0; at = table.indexOf(needle, at + 1)) {
    const lineStart = table.lastIndexOf('\n', at) + 1;
    const lineEnd = table.indexOf('\n', at);
    const fields = table.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).trim().split(/\s+/);
    // Only the local address column (index 1) counts: the remote one may carry the same port.
    if (!fields[1]?.endsWith(needle.trimEnd())) continue;
    const drops = Number(fields[12]);
    return Number.isFinite(drops) ? drops : undefined;
  }
  return undefined;
}
