/** Where the commands write: stdout for messages, stderr for status and errors. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}
