import { formatStatus, type StatusAnswer } from './status-report.js';

export class StatusCommandError extends Error {
  override readonly name = 'StatusCommandError';
}

export interface StatusCommandOptions {
  /** The gateway's monitoring address, e.g. http://127.0.0.1:9884 (`http://` may be left out). */
  readonly url: string;
  readonly token?: string | undefined;
  readonly limit?: string | undefined;
}

/** `mqttsn-gateway status`: asks a running gateway's /api/status and prints the terminal view. */
export async function printStatus(options: StatusCommandOptions): Promise<void> {
  const base = /^https?:\/\//.test(options.url) ? options.url : `http://${options.url}`;
  const url = new URL('api/status', base.endsWith('/') ? base : `${base}/`);
  if (options.limit !== undefined) url.searchParams.set('limit', options.limit);
  let response: Response;
  try {
    response = await fetch(url, { headers: options.token ? { authorization: `Bearer ${options.token}` } : {}, signal: AbortSignal.timeout(5000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new StatusCommandError(`no gateway answers at ${base} (${cause}): is it running with --http (config http.listen)? Point at it with --http URL`);
  }
  if (response.status === 401) throw new StatusCommandError(`${base} needs the gateway's http.token: pass --token or set MQTTSN_HTTP_TOKEN`);
  if (!response.ok) throw new StatusCommandError(`${url.href} answered HTTP ${response.status}`);
  process.stdout.write(formatStatus((await response.json()) as StatusAnswer));
}
