/**
 * The simulated Shelly Gen1 answers commands as Shelly's Gen1 API documents
 * (https://shelly-api-docs.shelly.cloud/gen1/#common-mqtt-commands) and ignores what a real Gen1
 * ignores; every answer parses with the worker's Gen1 parser. Pure: no broker, no clock.
 */
import { describe, expect, it } from 'vitest';
import { deviceConfigFor, ShellyGen1Device } from '../../../scripts/sim/devices.ts';
import { ShellyGen1Parser } from '../../src/mqtt/parsers/shelly-gen1.ts';

const ID = 'shellyplug-s-sim1';

function running(power_w: number) {
  const device = new ShellyGen1Device('sim-gen1', ID);
  device.tick(0, power_w, true);
  device.tick(60, power_w, true); // one minute at power_w: 60 * power_w watt-minutes
  return device;
}

describe('simulated Shelly Gen1 commands', () => {
  const parser = new ShellyGen1Parser();

  it('answers the worker poll (`update` on shellies/<id>/command) with its state and info', () => {
    const device = running(1200);
    const config = deviceConfigFor(device, [10, 100]);
    const poll = parser.poll(config);
    const answer = device.command(poll.topic, poll.payload);
    expect(answer.map((m) => m.topic)).toEqual([
      `shellies/${ID}/relay/0`,
      `shellies/${ID}/relay/0/power`,
      `shellies/${ID}/relay/0/energy`,
      `shellies/${ID}/info`,
    ]);
    const parsed = answer.map((m) => parser.parse(config, m.topic, Buffer.from(m.payload)));
    expect(parsed.filter((r) => r.kind === 'invalid')).toEqual([]);
    expect(parsed.at(-1)).toEqual({
      kind: 'input',
      input: { kind: 'reading', power_w: 1200, energy_wh: 20 },
    });
  });

  it('answers `announce` with the announce message and info', () => {
    const answer = running(0).command(`shellies/${ID}/command`, 'announce');
    expect(answer.map((m) => m.topic)).toEqual([
      'shellies/announce',
      `shellies/${ID}/announce`,
      `shellies/${ID}/info`,
    ]);
  });

  it.each(['status_update', 'update_status', '', 'UPDATE'])(
    'ignores %j, as a real Gen1 device does',
    (payload) => {
      expect(running(500).command(`shellies/${ID}/command`, payload)).toEqual([]);
    },
  );

  it('answers nothing while offline', () => {
    const device = running(500);
    device.tick(61, 0, false);
    expect(device.command(`shellies/${ID}/command`, 'update')).toEqual([]);
  });
});
