import { ReturnCode } from '../codec/packets.js';

/** Why a client operation failed. */
export type ClientErrorCode =
  | 'rejected' // the gateway answered with a return code other than 0x00
  | 'timeout' // no answer after the configured retries (MQTT-SN 1.2 §6.13 T_RETRY / N_RETRY)
  | 'closed' // the client was closed while the request was outstanding
  | 'not-connected' // the operation needs an accepted CONNECT first
  | 'bad-topic'; // the topic cannot be sent in the requested form

/** A typed client failure; `returnCode` is set for `rejected`. */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly returnCode?: number,
  ) {
    super(message);
  }
}

const RETURN_CODE_NAMES: Record<number, string> = {
  [ReturnCode.Accepted]: 'accepted',
  [ReturnCode.Congestion]: 'rejected: congestion',
  [ReturnCode.InvalidTopicId]: 'rejected: invalid topic ID',
  [ReturnCode.NotSupported]: 'rejected: not supported',
};

/** `0x02 (rejected: invalid topic ID)`; codes outside §5.3.10 are shown as reserved. */
export function describeReturnCode(rc: number): string {
  const hex = `0x${rc.toString(16).padStart(2, '0')}`;
  return `${hex} (${RETURN_CODE_NAMES[rc] ?? 'reserved'})`;
}

/** The error for an ack that carries a non-zero return code. */
export function rejected(what: string, rc: number): ClientError {
  return new ClientError('rejected', `${what} ${describeReturnCode(rc)}`, rc);
}
