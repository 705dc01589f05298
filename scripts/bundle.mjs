// Bundles each executable into one ESM file with esbuild: a single file to load instead of a few
// hundred modules makes the gateway start faster and use less memory (see README, footprint).
// aedes, classic-level and serialport stay external (native code, or imported only when used); yaml is bundled but only
// initialised when a YAML config file is read (measured: cheaper than resolving it from node_modules).
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// Only the bundles are shipped (package.json "files"); nothing else may linger in dist/.
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

const entries = { 'mqttsn-gateway': 'bin/mqttsn-gateway.ts', mqttsn: 'bin/mqttsn.ts' };

await build({
  entryPoints: entries,
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Names stay readable in stack traces; whitespace and dead code go.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  define: { MQTTSN_GATEWAY_VERSION: JSON.stringify(version) },
  // classic-level loads a native binary from its own package directory.
  // werift-dtls is loaded only for a dtls:// radio.
  external: ['aedes', 'classic-level', 'serialport', '@stoprocent/noble', 'werift-dtls'],
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
