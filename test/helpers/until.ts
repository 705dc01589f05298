/** Polls `check` every 50 ms until it holds; fails after `timeoutMs`, saying what it waited for. */
export async function until(check: () => boolean, what: string | (() => string), timeoutMs = 6000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await new Promise((resolve) => setTimeout(resolve, 50))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
  }
}
