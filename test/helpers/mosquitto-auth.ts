import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Writes `dir/passwd` with mosquitto_passwd (hashed entries) and returns its path. Run as root,
 * mosquitto 2 reads it only after dropping to user 'mosquitto', so the file is made 0644 and `dir` 0755.
 */
export async function writePasswordFile(dir: string, users: Record<string, string>): Promise<string> {
  const path = join(dir, 'passwd');
  await writeFile(path, '');
  // -b takes the password on the command line; the file exists, so no -c is needed.
  for (const [user, password] of Object.entries(users)) await run('mosquitto_passwd', ['-b', path, user, password]);
  await chmod(path, 0o644);
  await chmod(dir, 0o755);
  return path;
}

/**
 * Config lines requiring a login from the password file. Checked on mosquitto 2.0.11: the last
 * allow_anonymous wins, so this overrides the `allow_anonymous true` that startMosquitto writes first.
 */
export function authConfig(passwordFile: string): string {
  return `allow_anonymous false\npassword_file ${passwordFile}\n`;
}
