/**
 * Crash safety: the real worker (child process) against a real broker (aedes, in this process) and a
 * JSON-RPC endpoint playing Odoo. A seeded scenario of power readings flows over MQTT while the worker
 * is killed with SIGKILL at random points and restarted. At the end: every event the worker produced
 * reached Odoo exactly once (no duplicate accepted, nothing left in the outbox), and sessions are
 * continuous (one start per session id, at most one stop, seq contiguous per device).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkshopEvent } from '@workshop-iot/shared';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../scripts/lib/wait.ts';
import { EmbeddedBroker } from '../../src/mqtt/embedded-broker.ts';
import { device } from '../helpers/control.ts';
import { FakeOdoo } from '../helpers/fake-odoo.ts';
import { seeded, WorkerProcess } from '../helpers/worker-process.ts';

const SEED = Number(process.env.CRASH_SEED ?? 20261125);
const KILLS = 4;
const DEVICES = ['m1', 'm2', 'm3'];

let dir: string;
let broker: EmbeddedBroker;
let odoo: FakeOdoo;
let publisher: mqtt.MqttClient;
let worker: WorkerProcess;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-'));
  broker = new EmbeddedBroker({ port: 0 });
  const address = await broker.start();
  odoo = new FakeOdoo();
  await odoo.start();
  publisher = await mqtt.connectAsync(address.url, { clientId: 'crash-test-publisher' });
  const settingsFile = WorkerProcess.writeSettings(dir, {
    worker_uid: 'crash-worker',
    data_dir: path.join(dir, 'data'),
    http: { port: 0 },
    odoo: {
      url: odoo.url,
      api_key: odoo.apiKey,
      timeout_ms: 2000,
      batch_size: 50,
      status_interval_s: 5,
    },
    config: {
      version: 1,
      broker: { url: address.url, reconnect_min_ms: 100, reconnect_max_ms: 500 },
      devices: DEVICES.map((id) =>
        device(id, {
          session_config: {
            standby_threshold_w: 5,
            working_threshold_w: 100,
            start_debounce_s: 0,
            stop_debounce_s: 0,
            message_timeout_s: 3600,
            heartbeat_interval_s: 5,
          },
        }),
      ),
    },
  });
  worker = new WorkerProcess(settingsFile);
});

afterAll(async () => {
  await worker?.stop().catch(() => undefined);
  await publisher?.endAsync();
  await odoo?.stop();
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Power for reading `i` of a device: sessions of varying length with standby/working switches. */
function power(random: () => number): number {
  const r = random();
  return r < 0.3 ? 0 : r < 0.55 ? 20 + Math.round(random() * 50) : 150 + Math.round(random() * 500);
}

describe('crash safety', () => {
  it('delivers every produced event exactly once across SIGKILLs and keeps sessions continuous', async () => {
    const random = seeded(SEED);
    let publishing = true;
    let published = 0;
    const pump = (async () => {
      while (publishing) {
        for (const id of DEVICES) {
          const payload = JSON.stringify({
            id: 0,
            apower: power(random),
            aenergy: { total: published },
          });
          publisher.publish(`shelly-${id}/status/switch:0`, payload, { qos: 0 });
          published++;
        }
        await new Promise((r) => setTimeout(r, 15)); // pacing of the scenario, not synchronisation
      }
    })();

    await worker.start();
    const kills: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const target = published + 30 + Math.floor(random() * 150);
      await waitFor(() => published >= target, `scenario reaches message ${target}`);
      kills.push(Date.now());
      await worker.kill();
      await worker.start();
    }
    const target = published + 60;
    await waitFor(() => published >= target, 'final stretch of the scenario');
    publishing = false;
    await pump;
    // Everything produced is eventually delivered: wait for the outbox to drain, then stop cleanly.
    const outboxFile = path.join(dir, 'data', 'outbox.sqlite');
    await waitFor(
      () => {
        const db = new Database(outboxFile, { readonly: true, fileMustExist: true });
        try {
          return (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n === 0;
        } finally {
          db.close();
        }
      },
      'outbox drained to Odoo',
      30_000,
    );
    expect(await worker.stop()).toBe(0);

    const db = new Database(outboxFile, { readonly: true });
    const left = db.prepare('SELECT event_uid FROM outbox').all();
    const dead = db.prepare('SELECT event_uid FROM dead_letter').all();
    db.close();
    expect(left).toEqual([]);
    expect(dead).toEqual([]);

    // No duplicate accepted.
    expect(new Set(odoo.acceptedLog).size).toBe(odoo.acceptedLog.length);
    const events = [...odoo.accepted.values()] as WorkshopEvent[];
    expect(events.length).toBeGreaterThan(DEVICES.length * 3);

    // Sessions open at a kill resumed after the restart with the same id (not a new session).
    const spanning = events.filter(
      (e) =>
        e.type === 'session_stopped' &&
        kills.some(
          (k) => Date.parse(e.payload.started_at) < k && Date.parse(e.payload.ended_at) > k,
        ),
    );
    expect(spanning.length).toBeGreaterThan(0);
    console.info(
      `crash safety (seed ${SEED}): ${published} messages, ${KILLS} kills, ${events.length} events delivered, ${odoo.duplicates.length} resends answered duplicate, ${spanning.length} sessions resumed across a kill`,
    );

    for (const id of DEVICES) {
      const mine = events.filter((e) => e.device_id === id).sort((a, b) => a.seq - b.seq);
      // seq contiguous from 1: nothing produced was lost in between.
      expect(
        mine.map((e) => e.seq),
        `seq of ${id}`,
      ).toEqual(mine.map((_, i) => i + 1));
      const sessions = new Map<string, { starts: number; stops: number }>();
      for (const e of mine) {
        if (!('session_id' in e.payload)) continue;
        const s = sessions.get(e.payload.session_id) ?? { starts: 0, stops: 0 };
        if (e.type === 'session_started') s.starts++;
        if (e.type === 'session_stopped') s.stops++;
        sessions.set(e.payload.session_id, s);
      }
      for (const [sid, s] of sessions) {
        expect(s.starts, `starts of session ${sid}`).toBe(1);
        expect(s.stops, `stops of session ${sid}`).toBeLessThanOrEqual(1);
      }
      // At most one session open at a time: a start only after the previous session stopped.
      let open: string | null = null;
      for (const e of mine) {
        if (e.type === 'session_started') {
          expect(open, `overlapping sessions on ${id}`).toBeNull();
          open = e.payload.session_id;
        } else if (e.type === 'session_stopped') {
          expect(e.payload.session_id).toBe(open);
          open = null;
        }
      }
    }
  });
});
