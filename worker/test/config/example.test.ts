/** The example settings file shipped for the quick start must stay valid as the schema evolves. */
import fs from 'node:fs';
import { validate } from '@workshop-iot/shared';
import { describe, expect, it } from 'vitest';

describe('worker/workshop-iot.example.json', () => {
  it('validates against the worker_settings contract and configures the simulator devices', () => {
    const file = new URL('../../workshop-iot.example.json', import.meta.url);
    const settings = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(validate('worker_settings', settings)).toEqual([]);
    expect(settings.config.broker.url).toBeNull();
    expect(
      settings.config.devices.map((d: { parser_type: string }) => d.parser_type).sort(),
    ).toEqual(['shelly_gen1', 'shelly_gen2', 'tasmota']);
  });
});
