import { accessSync, constants } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The optional BLE library, and the one install command that works on a fresh Raspberry Pi.
 *
 * @stoprocent/noble's install script builds its own native module, a macOS/Windows binding that
 * Linux never loads; without a compiler and Node headers that script fails and npm drops the
 * package. On Linux noble talks to the adapter through @stoprocent/bluetooth-hci-socket, whose
 * prebuilt binaries ship inside its package and are found at run time, so installing noble with
 * --ignore-scripts gives a working BLE radio without compiling anything.
 */

export const NOBLE_PACKAGE = '@stoprocent/noble';
/** Keep equal to package.json's optionalDependencies (a test checks). */
export const NOBLE_RANGE = '^2.8.0';

/** Where the gateway is installed, as far as the install command is concerned. */
export type Installation =
  | { readonly kind: 'global'; readonly prefix: string; readonly writable: boolean }
  | { readonly kind: 'local'; readonly project: string };

/**
 * Tells a global install (PREFIX/lib/node_modules/mqttsn-gateway) from a checkout or a project
 * that depends on the gateway.
 */
export function installationOf(packageRoot: string, isWritable: (dir: string) => boolean = writable): Installation {
  const parent = dirname(packageRoot);
  if (basename(parent) !== 'node_modules') return { kind: 'local', project: packageRoot };
  const above = dirname(parent);
  if (basename(above) === 'lib') {
    const prefix = dirname(above);
    return { kind: 'global', prefix, writable: isWritable(parent) };
  }
  return { kind: 'local', project: above };
}

/** The command that installs the BLE library where this gateway will find it. */
export function nobleInstallCommand(installation: Installation = installationOf(packageRootOfThisFile())): string {
  const spec = `${NOBLE_PACKAGE}@${NOBLE_RANGE}`;
  if (installation.kind === 'global') {
    const sudo = installation.writable ? '' : 'sudo ';
    return `${sudo}npm install --global --prefix ${installation.prefix} --ignore-scripts ${spec}`;
  }
  // --no-save: a checkout already lists noble as optional; the lockfile stays as it is.
  return `cd ${installation.project} && npm install --no-save --ignore-scripts ${spec}`;
}

/** The folder holding package.json: dist/ once bundled, radios/ when run from source. */
function packageRootOfThisFile(): string {
  return dirname(dirname(fileURLToPath(import.meta.url)));
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

