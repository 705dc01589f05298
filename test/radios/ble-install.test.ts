import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { installationOf, NOBLE_RANGE, nobleInstallCommand } from '../../radios/ble-install.js';
import { projectRoot } from '../helpers/processes.js';

describe('where the BLE library gets installed', () => {
  it('a global install under /usr: npm -g into that prefix, with sudo when the user cannot write there', () => {
    const root = '/usr/lib/node_modules/mqttsn-gateway';
    expect(nobleInstallCommand(installationOf(root, () => false))).toBe('sudo npm install --global --prefix /usr --ignore-scripts @stoprocent/noble@^2.8.0');
    expect(nobleInstallCommand(installationOf(root, () => true))).toBe('npm install --global --prefix /usr --ignore-scripts @stoprocent/noble@^2.8.0');
  });

  it('a global install under a user prefix (npm config set prefix ~/.npm-global)', () => {
    expect(installationOf('/home/pi/.npm-global/lib/node_modules/mqttsn-gateway', () => true)).toEqual({ kind: 'global', prefix: '/home/pi/.npm-global', writable: true });
  });

  it('a checkout: into its own node_modules, leaving package.json and the lockfile alone', () => {
    expect(nobleInstallCommand(installationOf('/home/pi/mqttsn-gateway'))).toBe('cd /home/pi/mqttsn-gateway && npm install --no-save --ignore-scripts @stoprocent/noble@^2.8.0');
  });

  it('a project that depends on the gateway: into that project', () => {
    expect(installationOf('/srv/app/node_modules/mqttsn-gateway')).toEqual({ kind: 'local', project: '/srv/app' });
  });

  it('asks for the version range package.json declares', async () => {
    const pkg = JSON.parse(await readFile(`${projectRoot}/package.json`, 'utf8')) as { optionalDependencies: Record<string, string>; allowScripts: Record<string, boolean> };
    expect(pkg.optionalDependencies['@stoprocent/noble']).toBe(NOBLE_RANGE);
    // npm >= 11 skips noble's (Linux-useless) install script on its own, so a plain install keeps it.
    expect(pkg.allowScripts['@stoprocent/noble']).toBe(false);
  });
});
