import v8 from 'node:v8';

/**
 * Startup runs once: loading the bundle and LevelDB's modules, parsing the config, filling the
 * MQTT length cache. Left to V8's defaults, that one-off work (issue 17, measured on the idle
 * gateway with an external broker):
 * - wakes the optimising compiler for a few module-loader and Buffer functions it will never need
 *   again, which maps about 4 MB of its code and data for the life of the process;
 * - grows V8's young generation for short-lived garbage, and it stays grown (about 2 MB).
 * So until the gateway is ready, V8 neither optimises nor grows its young generation; both are
 * given back at once (`startupDone`), before any device traffic, so a busy gateway runs exactly
 * as V8 would run it, and after STARTUP_WINDOW_MS at the latest. Idle RSS: 63.6 MB without, 57.4
 * MB with.
 * Imported first by the gateway's entry point, so it runs before the rest of the bundle is set up.
 * Skipped when the user tunes these V8 settings themselves (node flags or NODE_OPTIONS).
 */
const userTuned = /--(no-)?(opt|turbofan|jitless|max-semi-space-size|semi-space-growth-factor)\b/.test([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '));

/**
 * The longest start-up that runs this way: a gateway restoring a large store (a million held
 * messages take seconds) gets the optimising compiler back after this, ready or not.
 */
export const STARTUP_WINDOW_MS = 2000;

let tuned = !userTuned;
const giveBack = tuned ? setTimeout(() => startupDone(), STARTUP_WINDOW_MS).unref() : undefined;
if (tuned) {
  v8.setFlagsFromString('--no-turbofan');
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/** The gateway is ready (or start-up ran STARTUP_WINDOW_MS): V8's defaults from now on. */
export function startupDone(): void {
  if (!tuned) return;
  tuned = false;
  clearTimeout(giveBack);
  v8.setFlagsFromString('--turbofan');
  v8.setFlagsFromString('--semi-space-growth-factor=2');
}
