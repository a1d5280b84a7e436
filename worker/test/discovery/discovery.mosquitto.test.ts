/**
 * Discovery end to end on a real broker: Debian's mosquitto with the stack's logins and ACL
 * (deploy/mosquitto/acl), the simulator's meter kinds announcing themselves as the real devices do
 * (retained Shelly `online`, NotifyFullStatus, answers to Shelly.GetDeviceInfo / GetStatus,
 * `shellies/announce` on the worker's `announce`, Tasmota and Zigbee2MQTT discovery), and the real
 * worker (App) reporting them with `discovery.report` to a fake Odoo (the Odoo side is tested on a
 * real Odoo in addon/workshop_iot/tests/test_discovery.py).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Mosquitto } from '../../../scripts/lib/mosquitto.ts';
import { waitFor } from '../../../scripts/lib/wait.ts';
import { Simulator } from '../../../scripts/sim/simulator.ts';
import { App } from '../../src/app.ts';
import { FakeOdoo } from '../helpers/fake-odoo.ts';
import { captureLog } from '../helpers/log.ts';

const PASS = { worker: 'worker-password-0123', devices: 'devices-password-0123' };
const cleanup: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function stack(discovery = true) {
  const acl = path.resolve(import.meta.dirname, '../../../deploy/mosquitto/acl');
  const broker = new Mosquitto({ users: PASS, extra: [`acl_file ${acl}`] });
  cleanup.push(() => broker.dispose());
  await broker.start();
  const odoo = new FakeOdoo();
  await odoo.start();
  cleanup.push(() => odoo.stop());
  const sim = new Simulator({
    brokerUrl: broker.url,
    username: 'devices',
    password: PASS.devices,
    scenario: 'working',
    kinds: ['pro4pm', 'plus2pm', 'pro3em', 'emg3', 'gen1-3em', 'dualr3', 'z2m-plug', 'esphome'],
    prefix: 'disc',
    autoTick: false,
  });
  await sim.start();
  cleanup.push(() => sim.stop());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'discovery-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const settings = path.join(dir, 'settings.json');
  fs.writeFileSync(
    settings,
    JSON.stringify({
      worker_uid: 'disc-worker',
      data_dir: path.join(dir, 'data'),
      http: { port: 0, token: 'discovery-admin-token-0123456789' },
      odoo: { url: odoo.url, api_key: odoo.apiKey },
      discovery: { enabled: discovery },
      config: {
        version: 1,
        broker: { url: broker.url, username: 'worker', password: PASS.worker },
        devices: [],
      },
    }),
  );
  const logged = captureLog('info');
  const app = await App.start({ argv: ['--config', settings], env: {}, cwd: dir, log: logged.log });
  cleanup.push(() => app.stop());
  return { odoo, sim, app };
}

describe('discovery on a real mosquitto', () => {
  it('reports every announcing meter kind with its parser, topic and channels', async () => {
    const { odoo, sim, app } = await stack();
    const id = (name: string) => sim.devices.find((d) => d.id.includes(name))?.id ?? name;
    const pro4pm = id('shellypro4pm');
    const key = (family: string, k: string) => `${family}/${k}`;
    // The simulator numbers its devices: the Dual R3 (6th) has MAC 94B97E000006, the plug
    // (7th) IEEE address 0x00158d0001000007.
    const expected = [
      key('shelly_gen2', pro4pm),
      key('shelly_gen2', id('shellyplus2pm')),
      key('shelly_gen2', id('shellypro3em')),
      key('shelly_gen2', id('shellyemg3')),
      key('shelly_gen1', id('shellyem3')),
      'tasmota/94B97E000006',
      key('zigbee2mqtt', '0x00158d0001000007'),
    ];
    // The Shelly Gen2+ models arrive with the GetDeviceInfo answers: wait for those too.
    await waitFor(
      () =>
        expected.every((k) => odoo.discovered.has(k)) &&
        expected.slice(0, 4).every((k) => odoo.discovered.get(k)?.model),
      `discovery.report of ${expected.join(', ')} with the Shelly models`,
      20_000,
    );
    expect([...odoo.discovered.keys()].sort()).toEqual([...expected].sort());
    const meter = (k: string) => odoo.discovered.get(k);
    expect(meter(key('shelly_gen2', pro4pm))).toEqual({
      family: 'shelly_gen2',
      device_key: pro4pm,
      model: 'Pro4PM (SPSW-004PE16EU)',
      name: null,
      parser_type: 'shelly_gen2',
      topic: pro4pm,
      channels: [0, 1, 2, 3].map((c) => ({
        channel: c,
        component: `switch:${c}`,
        measures: 'power',
        energy: true,
      })),
    });
    expect(meter(key('shelly_gen2', id('shellypro3em')))?.channels).toEqual([
      { channel: 0, component: 'em:0', measures: 'three_phase', energy: true },
    ]);
    expect(meter(key('shelly_gen2', id('shellyemg3')))?.channels.map((c) => c.component)).toEqual([
      'em1:0',
      'em1:1',
    ]);
    expect(meter(key('shelly_gen1', id('shellyem3')))).toMatchObject({
      parser_type: 'shelly_gen1',
      topic: id('shellyem3'),
      model: 'Shelly 3EM (SHEM-3)',
    });
    expect(meter('tasmota/94B97E000006')).toMatchObject({
      parser_type: 'tasmota',
      topic: id('dualr3'),
      model: 'Sonoff Dual R3',
      channels: [
        { channel: 0, component: 'ENERGY.Power[0]', measures: 'power', energy: true },
        { channel: 1, component: 'ENERGY.Power[1]', measures: 'power', energy: true },
      ],
    });
    expect(meter(key('zigbee2mqtt', '0x00158d0001000007'))).toMatchObject({
      parser_type: 'generic_json',
      topic: 'zigbee2mqtt/disc Plug 0007',
      channels: [{ channel: 0, value_path: 'power', energy_path: 'energy' }],
    });
    // ESPHome has no announcement discovery listens to: it is configured by hand.
    expect([...odoo.discovered.keys()].some((k) => k.includes('esphome'))).toBe(false);
    // The dashboard's machines are untouched: nothing is configured until Odoo creates a machine.
    expect(odoo.callsOf('events.ingest')).toEqual([]);
    const metrics = await app.metrics.text();
    expect(metrics).toMatch(/^workshop_iot_discovery_meters 7$/m);
    expect(metrics).toMatch(/^workshop_iot_discovery_invalid_total 0$/m);
  });

  it('stays off with discovery.enabled false: no announcement filter is subscribed', async () => {
    const { app } = await stack(false);
    await waitFor(() => app.mqtt.status().connected, 'the worker connected');
    expect(app.discovery).toBeNull();
    expect(app.mqtt.status().subscriptions).toBe(0); // no machines configured, no discovery filters
  });
});
