/** Set by scripts/bundle.mjs from package.json; absent when the sources run directly (tsx). */
declare const MQTTSN_GATEWAY_VERSION: string | undefined;

/** The package version, as `--version` prints it. */
export const VERSION: string = typeof MQTTSN_GATEWAY_VERSION === 'string' ? MQTTSN_GATEWAY_VERSION : '0.0.0-source';
