/**
 * The registry hands every fresh input to the recorder at the time it resolved for it (arrival, or
 * the device's own time while the broker replays its backlog); not retained replays, not unknown or
 * removed devices, not devices configured with `recording: false`. Then the same through a real
 * RecordingStore across a registry restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryDeviceStore } from '../../src/devices/registry.ts';
import { RecordingStore } from '../../src/recording/store.ts';
import type { InputRecorder, RecordedInput } from '../../src/recording/types.ts';
import { BASE_MS, DEVICE_ID, deviceConfig, TestClock, testRegistry } from '../devices/harness.ts';
import { captureLog } from '../helpers/log.ts';

function setup() {
  const clock = new TestClock();
  const recorded: { id: string; input: RecordedInput }[] = [];
  const recorder: InputRecorder = { record: (id, input) => recorded.push({ id, input }) };
  const registry = testRegistry(new MemoryDeviceStore(), clock, { recorder });
  const at = (ms: number) => clock.advanceTo(BASE_MS + ms);
  return { registry, recorded, at };
}

const other = (id: string, recording?: boolean) => ({
  ...deviceConfig(),
  device_id: id,
  topic: id,
  ...(recording === undefined ? {} : { recording }),
});

describe('DeviceRegistry: recording hook', () => {
  it('records each fresh input of a configured device with its resolved time', () => {
    const { registry, recorded, at } = setup();
    registry.apply([deviceConfig()]);
    at(1000);
    registry.input(DEVICE_ID, { kind: 'reading', power_w: 250.5, energy_wh: 12.5 });
    at(2000);
    registry.input(DEVICE_ID, { kind: 'availability', online: false });
    at(3000);
    registry.input(DEVICE_ID, { kind: 'alive' });
    registry.input(DEVICE_ID, { kind: 'reading', power_w: 9, energy_wh: null }, { retained: true });
    registry.input('unknown', { kind: 'reading', power_w: 1, energy_wh: null });
    expect(recorded).toEqual([
      {
        id: DEVICE_ID,
        input: { at: BASE_MS + 1000, kind: 'reading', power_w: 250.5, energy_wh: 12.5 },
      },
      { id: DEVICE_ID, input: { at: BASE_MS + 2000, kind: 'availability', online: false } },
      { id: DEVICE_ID, input: { at: BASE_MS + 3000, kind: 'alive' } },
    ]);
  });

  it('records a replayed reading at the device’s own time, as the actor counts it', () => {
    const { registry, recorded, at } = setup();
    registry.apply([deviceConfig()]);
    at(10_000);
    registry.setReplaying(true);
    registry.input(DEVICE_ID, { kind: 'reading', power_w: 5, energy_wh: null, at: BASE_MS + 4000 });
    registry.input(DEVICE_ID, {
      kind: 'reading',
      power_w: 6,
      energy_wh: null,
      at: BASE_MS + 60_000,
    });
    expect(recorded.map((r) => r.input.at - BASE_MS)).toEqual([4000, 10_000]);
  });

  it('skips devices with recording: false and devices removed from the config', () => {
    const { registry, recorded, at } = setup();
    registry.apply([other('on'), other('off', false), other('explicit', true)]);
    at(1000);
    for (const id of ['on', 'off', 'explicit'])
      registry.input(id, { kind: 'reading', power_w: 100, energy_wh: null });
    registry.apply([other('explicit', true), other('on', false)]);
    at(2000);
    for (const id of ['on', 'off', 'explicit'])
      registry.input(id, { kind: 'reading', power_w: 200, energy_wh: null });
    expect(recorded.map((r) => `${r.id}@${r.input.at - BASE_MS}`)).toEqual([
      'on@1000',
      'explicit@1000',
      'explicit@2000',
    ]);
  });

  it('records into the store, and the store keeps it across a registry and store restart', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recording-hook-'));
    try {
      const clock = new TestClock();
      const devices = new MemoryDeviceStore();
      const open = () =>
        new RecordingStore({
          dir,
          log: captureLog().log,
          flushIntervalMs: 0,
          now: () => clock.now(),
        });
      let recording = open();
      let registry = testRegistry(devices, clock, { recorder: recording });
      registry.apply([deviceConfig()]);
      for (let s = 1; s <= 5; s++) {
        clock.advanceTo(BASE_MS + s * 1000);
        registry.input(DEVICE_ID, { kind: 'reading', power_w: 100 * s, energy_wh: s });
      }
      registry.stop({ closeSessions: false });
      recording.stop();
      recording = open();
      registry = testRegistry(devices, clock, { recorder: recording });
      registry.apply([deviceConfig()]);
      clock.advanceTo(BASE_MS + 6000);
      registry.input(DEVICE_ID, { kind: 'reading', power_w: 600, energy_wh: 6 });
      const powers = [...recording.inputs(DEVICE_ID, BASE_MS, BASE_MS + 10_000)].map((i) =>
        i.kind === 'reading' ? i.power_w : null,
      );
      expect(powers).toEqual([100, 200, 300, 400, 500, 600]);
      registry.stop({ closeSessions: false });
      recording.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
