import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig, readConfigFile } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { output, projectRoot, spawnBin, stop } from '../helpers/processes.js';
import { serviceEnvironment } from '../fuzz/gateway-process.js';

/*
 * What a user installing the gateway as a service relies on: deploy/config.yaml loads and
 * documents every setting, deploy/mqttsn-gateway.service is a unit systemd accepts and that runs
 * the gateway the way the README says, deploy/mqttsn-gateway.sysusers creates its user.
 */

const deploy = join(projectRoot, 'deploy');
const configPath = join(deploy, 'config.yaml');
const unitPath = join(deploy, 'mqttsn-gateway.service');
const sysusersPath = join(deploy, 'mqttsn-gateway.sysusers');

/** True when `tool` runs here. */
function installed(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * systemd's tools are missing on some developer machines (macOS, minimal containers): skip there,
 * but on CI a missing tool must fail rather than quietly skip the check.
 */
function needsTool(tool: string): { skip: boolean; check: () => void } {
  const present = installed(tool);
  return {
    skip: !present && process.env.CI !== 'true',
    check: () => {
      if (!present) throw new Error(`${tool} is not installed, and CI=true: install systemd (it provides ${tool}) on the CI runner`);
    },
  };
}

describe('deploy/config.yaml', () => {
  it('has every section as an active (uncommented) key, and no dataDir: the unit passes --data-dir', async () => {
    const raw = await readConfigFile(configPath);
    const keys = Object.keys(raw);
    for (const section of ['radios', 'broker', 'access', 'discovery', 'limits', 'buffer', 'forward', 'timers', 'clients']) {
      expect(keys, `top-level section "${section}"`).toContain(section);
    }
    expect(keys).not.toContain('dataDir');
  });

  it('loads with the gateway loader and keeps the defaults: UDP on IPv4 and IPv6 port 1884, the embedded broker', async () => {
    const config = parseConfig(await readConfigFile(configPath), configPath);
    expect(config.radios).toEqual(['udp://0.0.0.0:1884', 'udp6://[::]:1884']);
    expect(config.broker.url).toBeUndefined();
    expect(config.broker.mode).toBe('aggregating');
    expect(config.embeddedPort).toBe(1883);
    expect(config.access).toEqual({ addresses: {}, acl: {} }); // no access rule: everyone allowed
    expect(config.forward.overflow).toBe('refuse'); // nothing is lost during a broker outage
    expect(config.limits.maxInflight).toBe(64);
    expect(config.timers.retryMs).toBe(10_000);
    expect(config.logLevel).toBe('info');
    // The file writes the defaults out so they can be edited: as shipped it changes nothing.
    expect(config).toEqual(parseConfig({}));
  });

  it('documents every field the schema allows, with commented-out examples that are valid once uncommented', async () => {
    const examples = uncommentExamples(await readFile(configPath, 'utf8'));
    const documented = keyPaths(examples);
    for (const path of schemaPaths(configSchema)) expect(documented, `field "${path}"`).toContain(path);
    expect(examples.radios).toEqual(expect.arrayContaining(['serial:///dev/ttyUSB0?baud=115200&framing=slip', 'xbee:///dev/ttyUSB0?baud=9600&api=2', 'ble://hci0']));
    expect(examples.broker).toMatchObject({ url: 'mqtt://192.168.1.10:1883' });
    // The tls example belongs to an mqtts:// broker; the url example is a plain mqtt:// one.
    const broker = { ...(examples.broker as Record<string, unknown>), url: 'mqtts://192.168.1.10:8883' };
    const config = parseConfig({ ...examples, broker }, `${configPath} with every example uncommented`);
    expect(config.clients['greenhouse-7']?.username).toBe('greenhouse-7');
    expect(config.access.acl['greenhouse-*']?.publish).toEqual(['greenhouse/+/sensors/#']);
  });
});

describe('deploy/mqttsn-gateway.service', () => {
  const analyze = needsTool('systemd-analyze');

  it.skipIf(analyze.skip)('passes systemd-analyze verify with no warnings', () => {
    analyze.check();
    const result = verify(unitPath);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.skipIf(analyze.skip)('verify reports a typo in a copy of the unit on stderr (so the check above can fail)', async () => {
    analyze.check();
    // verify exits 0 on most mistakes and only warns, so the check above must look at stderr.
    const dir = await mkdtemp(join(tmpdir(), 'mqttsn-unit-'));
    try {
      const broken = join(dir, 'mqttsn-gateway.service');
      // A unit may repeat a section: the appended line is read as part of [Service].
      await writeFile(broken, `${await readFile(unitPath, 'utf8')}\n[Service]\nRestart=on-failur\n`);
      const result = verify(broken);
      expect(result.stderr).toMatch(/Failed to parse service restart specifier, ignoring: on-failur/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('caps glibc malloc arenas (MALLOC_ARENA_MAX=2), as the fuzz run measures it', async () => {
    const { Service: service = {} } = parseUnit(await readFile(unitPath, 'utf8'));
    expect(service.Environment).toContain('MALLOC_ARENA_MAX=2');
    expect(await serviceEnvironment()).toMatchObject({ MALLOC_ARENA_MAX: '2' });
  });

  it('runs the installed executable as mqttsn-gateway (dialout) with the config and data directories systemd manages', async () => {
    const { Unit: unit = {}, Service: service = {}, Install: install = {} } = parseUnit(await readFile(unitPath, 'utf8'));
    expect(service.User).toEqual(['mqttsn-gateway']);
    expect(service.Group).toEqual(['mqttsn-gateway']);
    expect(words(service.SupplementaryGroups)).toContain('dialout');
    expect(service.ConfigurationDirectory).toEqual(['mqttsn-gateway']);
    expect(service.StateDirectory).toEqual(['mqttsn-gateway']);
    const execStart = words(service.ExecStart);
    // Only the npm-installed executable, wherever npm's prefix put it (/usr/bin or /usr/local/bin).
    expect(execStart.slice(0, 2)).toEqual(['/usr/bin/env', 'mqttsn-gateway']);
    expect(flagValue(execStart, '--config')).toBe('/etc/mqttsn-gateway/config.yaml');
    expect(flagValue(execStart, '--data-dir')).toBe('/var/lib/mqttsn-gateway');
    expect(words(unit.After)).toContain('network-online.target');
    expect(words(unit.Wants)).toContain('network-online.target');
    expect(install.WantedBy).toEqual(['multi-user.target']);
  });

  it('restarts on failure, stops with SIGTERM, reloads the config with SIGHUP', async () => {
    const { Service: service = {} } = parseUnit(await readFile(unitPath, 'utf8'));
    expect(service.Restart).toEqual(['on-failure']);
    expect(service.RestartSec).toHaveLength(1);
    expect(service.KillSignal).toEqual(['SIGTERM']);
    expect(service.TimeoutStopSec).toEqual(['20s']);
    expect(service.ExecReload).toEqual(['/bin/kill -HUP $MAINPID']);
  });

  it('gives BLE its two capabilities and nothing more, and keeps serial, Bluetooth and IP sockets usable under the hardening', async () => {
    const { Service: service = {} } = parseUnit(await readFile(unitPath, 'utf8'));
    expect(words(service.AmbientCapabilities).sort()).toEqual(['CAP_NET_ADMIN', 'CAP_NET_RAW']);
    expect(words(service.CapabilityBoundingSet).sort()).toEqual(['CAP_NET_ADMIN', 'CAP_NET_RAW']);
    expect(words(service.RestrictAddressFamilies)).toEqual(expect.arrayContaining(['AF_INET', 'AF_INET6', 'AF_UNIX', 'AF_NETLINK', 'AF_BLUETOOTH']));
    expect(words(service.RestrictAddressFamilies).some((family) => family.startsWith('~'))).toBe(false);
    expect(service.ProtectSystem).toEqual(['strict']);
    // Each of these would break a radio: PrivateDevices hides /dev/tty*, PrivateUsers confines the
    // capabilities to a user namespace, MemoryDenyWriteExecute stops Node's JIT.
    for (const breaks of ['PrivateDevices', 'PrivateUsers', 'PrivateNetwork', 'MemoryDenyWriteExecute']) expect(service[breaks], breaks).toBeUndefined();
    // With DevicePolicy=closed only the listed serial device groups (and /dev/null & co.) open.
    expect(service.DevicePolicy).toEqual(['closed']);
    expect(service.DeviceAllow).toEqual(expect.arrayContaining(['char-ttyUSB rw', 'char-ttyACM rw', 'char-ttyAMA rw', 'char-ttyS rw']));
  });
});

describe('deploy/mqttsn-gateway.sysusers', () => {
  const sysusers = needsTool('systemd-sysusers');
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mqttsn-sysusers-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.skipIf(sysusers.skip)('creates the system user the unit runs as, in dialout, with the state directory as home and no login', async () => {
    sysusers.check();
    // A throwaway root seeded like a fresh Debian or Raspberry Pi OS (dialout is GID 20 there), so
    // nothing on this machine is touched.
    await mkdir(join(root, 'etc'));
    await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    await writeFile(join(root, 'etc', 'group'), 'root:x:0:\ndialout:x:20:\n');
    const result = spawnSync('systemd-sysusers', [`--root=${root}`, sysusersPath], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const user = (await readFile(join(root, 'etc', 'passwd'), 'utf8')).split('\n').find((line) => line.startsWith('mqttsn-gateway:'));
    const [, , uid, , , home, shell] = (user ?? '').split(':');
    expect(user, 'an mqttsn-gateway line in passwd').toBeDefined();
    expect(Number(uid)).toBeLessThan(1000); // a system user
    expect(home).toBe('/var/lib/mqttsn-gateway');
    expect(shell).toBe('/usr/sbin/nologin');
    const groups = (await readFile(join(root, 'etc', 'group'), 'utf8')).split('\n');
    expect(groups).toContain('dialout:x:20:mqttsn-gateway');
    // The unit's User= is this user.
    const { Service: service = {} } = parseUnit(await readFile(unitPath, 'utf8'));
    expect(service.User).toEqual(['mqttsn-gateway']);
  });
});

describe('the gateway with deploy/config.yaml', () => {
  beforeAll(() => {
    // `npm test` bundles first; when only this file runs, build the bundle if it is missing.
    if (!existsSync(join(projectRoot, 'dist', 'mqttsn-gateway.mjs'))) {
      const built = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'bundle.mjs')], { cwd: projectRoot, encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`node scripts/bundle.mjs failed:\n${built.stderr}`);
    }
  });

  it('starts with the service command line and exits 0 on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mqttsn-deploy-'));
    // The unit's own flags, with a free UDP port and a free embedded broker port instead of 1884/1883.
    const child = spawnBin('mqttsn-gateway', ['--config', configPath, '--data-dir', dataDir, '--radio', 'udp://127.0.0.1:0', '--embedded-port', '0']);
    const io = output(child);
    try {
      await io.waitFor(/mqttsn-gateway ready: /, 15_000);
      await stop(child);
      expect(await io.exit, io.stderr()).toBe(0);
    } finally {
      await stop(child);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** `systemd-analyze verify`, with the log level at its default whatever the caller's environment says. */
function verify(path: string): { status: number | null; stderr: string } {
  const env = { ...process.env };
  delete env.SYSTEMD_LOG_LEVEL;
  const result = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', env });
  return { status: result.status, stderr: result.stderr };
}

/** A unit file's sections → key → every value given (systemd allows repeating a key). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = sections[section[1]!] ??= {};
      continue;
    }
    const equals = line.indexOf('=');
    if (!current || equals < 0) throw new Error(`unexpected unit line: ${rawLine}`);
    (current[line.slice(0, equals).trim()] ??= []).push(line.slice(equals + 1).trim());
  }
  return sections;
}

/** All words of a (possibly repeated) space-separated setting. */
function words(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((value) => value.split(/\s+/).filter(Boolean));
}

function flagValue(argv: readonly string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at < 0 ? undefined : argv[at + 1];
}

/**
 * The config with its commented-out examples switched on. An example is a comment line whose text
 * is YAML (`# key: value`, `# - item`, indented to where it belongs); prose comments never start
 * with `word:`. An active `key: {}` directly followed by a commented `# key:` is the example's
 * empty default, and gives way to it.
 */
function uncommentExamples(text: string): Record<string, unknown> {
  const lines = text.split('\n');
  const out: string[] = [];
  for (const [i, line] of lines.entries()) {
    const empty = /^(\s*)(\w+): \{\}/.exec(line);
    if (empty && (lines[i + 1] ?? '').startsWith(`${empty[1]}# ${empty[2]}:`)) continue;
    const example = /^(\s*)# ( *(?:- \S|'[^']+':|[\w*.-]+:(?: |$)).*)$/.exec(line);
    out.push(example ? `${example[1]}${example[2]}` : line);
  }
  return parseYaml(out.join('\n')) as Record<string, unknown>;
}

/** Dotted paths of every key in nested mappings, e.g. broker.tls.ca. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, inner]) => [`${prefix}${key}`, ...keyPaths(inner, `${prefix}${key}.`)]);
}

type SchemaNode = { def?: { type?: string; innerType?: unknown; out?: unknown }; shape?: Record<string, unknown> };

/** Dotted paths of every field in the config schema's nested objects (not inside records: their keys are free). */
function schemaPaths(schema: unknown, prefix = ''): string[] {
  let node = schema as SchemaNode | undefined;
  // Look through default(), optional() and pipe() to the object underneath.
  while (node?.def && node.def.type !== 'object') {
    node = (node.def.innerType ?? (node.def.type === 'pipe' ? node.def.out : undefined)) as SchemaNode | undefined;
  }
  if (!node?.shape) return [];
  return Object.entries(node.shape).flatMap(([key, inner]) => [`${prefix}${key}`, ...schemaPaths(inner, `${prefix}${key}.`)]);
}
