import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchChromium } from '../helpers/browser.js';
import { startEmbeddedBroker } from '../../src/upstream/embedded-broker.js';
import { freeUdpPort, output, spawnBin, stop } from '../helpers/processes.js';
import { RawDevice } from '../helpers/raw-device.js';

const skip = browserSkipReason();
const TOKEN = 'page-token';

/**
 * The status page as a user sees it: the shipped gateway serves it, headless Chromium loads it,
 * devices on real UDP come and go, and the table follows without a reload.
 */
describe.skipIf(skip)('the status page in Chromium', () => {
  let browser: Browser;
  let gateway: ReturnType<typeof spawnBin>;
  let closeBroker: () => Promise<void>;
  let dir: string;
  let base: string;
  let udpPort: number;
  const devices: RawDevice[] = [];

  beforeAll(async () => {
    const broker = await startEmbeddedBroker(0);
    closeBroker = () => broker.close();
    dir = await mkdtemp(join(tmpdir(), 'mqttsn-page-'));
    await writeFile(join(dir, 'config.yaml'), `http:\n  token: ${TOKEN}\n`);
    udpPort = await freeUdpPort();
    gateway = spawnBin('mqttsn-gateway', ['--broker', broker.url, '--radio', `udp://127.0.0.1:${udpPort}`, '--data-dir', 'none', '--config', join(dir, 'config.yaml'), '--http', '127.0.0.1:0', '--log-format', 'json']);
    const out = output(gateway);
    await out.waitFor(/mqttsn-gateway monitoring: http/);
    base = /mqttsn-gateway monitoring: (http:\/\/\S+?)\/?\n/.exec(out.stdout())![1]!;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    for (const device of devices) device.close();
    await browser?.close();
    if (gateway) await stop(gateway);
    await closeBroker?.();
    await rm(dir, { recursive: true, force: true });
  });

  async function device(clientId: string): Promise<RawDevice> {
    const raw = await RawDevice.open(udpPort);
    devices.push(raw);
    await raw.connect(clientId, { keepAlive: 60 });
    return raw;
  }

  it('shows a connected device, and its state changes to asleep when it sleeps, without a reload', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/#token=${TOKEN}`);
    await page.locator('#broker-state', { hasText: 'connected' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#radios td').first().textContent()).toBe(`udp://127.0.0.1:${udpPort}`);

    const probe = await device('garden-probe');
    const row = page.locator('tr[data-client-id="garden-probe"]');
    await row.locator('.state', { hasText: 'active' }).waitFor({ timeout: 10_000 });
    expect(await row.locator('td').nth(3).textContent()).toBe(`127.0.0.1:${probe.port}`);

    probe.send({ type: 'disconnect', duration: 600 });
    await probe.expect('disconnect');
    await row.locator('.state', { hasText: 'asleep' }).waitFor({ timeout: 10_000 });
    expect(await row.locator('td').nth(5).textContent()).toBe('sleeps 10 min');
    if (process.env.MQTTSN_SCREENSHOT) {
      await device('kitchen-meter');
      await device('boiler-7');
      await page.locator('tr[data-client-id="boiler-7"]').waitFor({ timeout: 10_000 });
      await page.setViewportSize({ width: 1200, height: 760 });
      await page.screenshot({ path: process.env.MQTTSN_SCREENSHOT, fullPage: true });
    }
    await page.close();
  }, 60_000);

  it('shows a client ID that looks like HTML as text, never as markup', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/#token=${TOKEN}`);
    const hostile = '<b id=x>bold</b>';
    await device(hostile);
    const row = page.locator('#devices tr').filter({ hasText: hostile });
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('td').first().textContent()).toBe(hostile);
    expect(await page.locator('#x').count()).toBe(0);
    await page.close();
  }, 30_000);

  it('asks for the token when it has none, and shows the devices once given', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.locator('#token-form').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('#error').textContent()).toBe('This gateway needs its token (http.token).');
    expect(await page.locator('#devices tr').count()).toBe(0);
    await page.fill('#token', TOKEN);
    await page.click('#token-form button');
    await page.locator('tr[data-client-id="garden-probe"]').waitFor({ timeout: 10_000 });
    await page.close();
  }, 30_000);
});
