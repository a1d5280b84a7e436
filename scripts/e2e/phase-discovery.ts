/**
 * Phase: meters found by discovery become machines (issue 15). A simulated Shelly Pro 3EM (one
 * three-phase machine) and a Plus 2PM (two machines, channels 0 and 1) announce themselves -> the
 * worker reports them -> Odoo lists them under Discovered meters -> "Add as machine" per channel
 * (the action's pre-filled values, saved as the form would) -> the worker gets the three machines
 * -> the meters run a session -> each machine gets exactly its own session in Odoo.
 *
 * Two simulator runs with the same ids: the first only announces (and is stopped), the second runs
 * the session once the machines exist, so no reading is lost between announcement and setup.
 */
import { waitFor } from '../lib/wait.ts';
import { Simulator } from '../sim/simulator.ts';
import { assert, assertNear } from './checks.ts';
import { type Ctx, odooTime, type SessionRow, sessionsOf, workerHasDevices } from './context.ts';

const SPEED = 10;
/** scripts/sim/simulator.ts channelPowers: channel c runs the profile c x 97 simulated s later. */
const CHANNEL_SHIFT_S = 97;
const SESSION_CONFIG = {
  standby_threshold_w: 10,
  working_threshold_w: 100,
  start_debounce_s: 2,
  stop_debounce_s: 2,
  message_timeout_s: 30,
  heartbeat_interval_s: 10,
};

interface DiscoveredMeter {
  id: number;
  topic: string;
  parser_type: string;
  channel_ids: number[];
}
interface DiscoveredChannel {
  id: number;
  channel: number;
  measures: string;
  meter_id: [number, string];
}

function simulator(ctx: Ctx, scenario: 'standby-only' | 'full-session'): Simulator {
  return new Simulator({
    brokerUrl: ctx.info.brokerUrl,
    ...(ctx.info.brokerUsername ? { username: ctx.info.brokerUsername } : {}),
    ...(ctx.info.brokerPassword ? { password: ctx.info.brokerPassword } : {}),
    scenario,
    kinds: ['pro3em', 'plus2pm'],
    prefix: 'e2e-disc',
    speed: SPEED,
    log: () => undefined,
  });
}

// Over 50 lines on purpose: one phase of the scenario, its steps in order, read top to bottom.
export async function discoveryPhase(ctx: Ctx): Promise<void> {
  const { checks, rpc } = ctx;
  const announcer = simulator(ctx, 'standby-only');
  const [pro3em, plus2pm] = announcer.devices;
  const topics = [pro3em!.topic, plus2pm!.topic];
  let channels: DiscoveredChannel[] = [];

  await checks.step('two meters announce themselves; Odoo lists them as discovered', async () => {
    await announcer.start();
    try {
      const meters = await waitFor(
        async () => {
          const rows = await rpc.searchRead<DiscoveredMeter>(
            'workshop.discovered.meter',
            [['topic', 'in', topics]],
            ['topic', 'parser_type', 'channel_ids'],
          );
          return rows.length === 2 && rows.every((m) => m.channel_ids.length > 0) ? rows : null;
        },
        'both meters under Discovered meters',
        30_000,
        500,
      );
      channels = await rpc.searchRead<DiscoveredChannel>(
        'workshop.discovered.meter.channel',
        [['meter_id', 'in', meters.map((m) => m.id)]],
        ['channel', 'measures', 'meter_id'],
        { order: 'meter_id, channel' },
      );
      const of = (topic: string) => {
        const meter = meters.find((m) => m.topic === topic)!;
        return channels.filter((c) => c.meter_id[0] === meter.id);
      };
      const three = of(pro3em!.topic);
      const two = of(plus2pm!.topic);
      assert(
        three.length === 1 && three[0]!.measures === 'three_phase',
        `Pro 3EM channels ${JSON.stringify(three)}`,
      );
      assert(
        two.map((c) => c.channel).join() === '0,1' && two.every((c) => c.measures === 'power'),
        `Plus 2PM channels ${JSON.stringify(two)}`,
      );
      channels = [...three, ...two];
    } finally {
      await announcer.stop();
    }
  });

  const machines: { record: number; deviceId: string; channel: number; label: string }[] = [];
  await checks.step(
    '"Add as machine" on each channel; the worker gets three machines',
    async () => {
      for (const line of channels) {
        const action = await rpc.callKw<{ res_model: string; context: Record<string, unknown> }>(
          'workshop.discovered.meter.channel',
          'action_add_machine',
          [[line.id]],
        );
        assert(action.res_model === 'workshop.device', `action opens ${action.res_model}`);
        // What the pre-filled form saves: its defaults, plus the thresholds the admin sets.
        const defaults = Object.fromEntries(
          Object.entries(action.context)
            .filter(([k]) => k.startsWith('default_'))
            .map(([k, v]) => [k.slice('default_'.length), v]),
        );
        const vals = { ...defaults, ...SESSION_CONFIG, billing_unit_minutes: 1 };
        const record = await rpc.callKw<number>('workshop.device', 'create', [vals]);
        const deviceId = String(defaults.device_id);
        machines.push({ record, deviceId, channel: line.channel, label: line.meter_id[1] });
        ctx.devices.add(deviceId);
      }
      const ids = machines.map((m) => m.deviceId);
      assert(new Set(ids).size === 3, `device ids ${ids.join(', ')}`);
      await waitFor(
        () => workerHasDevices(ctx, ids),
        'the three machines in the config',
        20_000,
        100,
      );
    },
  );

  let sessions: SessionRow[] = [];
  await checks.step('the meters run a session; each machine gets exactly its own', async () => {
    const runner = simulator(ctx, 'full-session');
    await runner.start();
    try {
      sessions = await waitFor(
        async () => {
          const rows = await sessionsOf(
            ctx,
            machines.map((m) => m.record),
          );
          const closed = rows.filter((s) => s.state !== 'running');
          return closed.length >= 3 && rows.length === closed.length ? rows : null;
        },
        'a closed session on each of the three machines',
        150_000,
        1000,
      );
    } finally {
      await runner.stop();
    }
    for (const m of machines) {
      const own = sessions.filter((s) => s.device_id[0] === m.record);
      assert(own.length === 1, `${m.deviceId}: ${own.length} sessions`);
      assert(own[0]!.stop_reason === 'power_off', `${m.deviceId}: ${own[0]!.stop_reason}`);
      assert(own[0]!.working_s > 0, `${m.deviceId}: no working time`);
    }
  });

  await checks.check('channel 1 runs its own profile, 97 simulated s after channel 0', async () => {
    const start = (channel: number) => {
      const m = machines.find((x) => x.deviceId.endsWith(`:${channel}`))!;
      return odooTime(sessions.find((s) => s.device_id[0] === m.record)!.started_at);
    };
    const shift = (start(1) - start(0)) / 1000;
    console.log(`         channel 1 started ${shift.toFixed(1)} s after channel 0`);
    assertNear(shift, CHANNEL_SHIFT_S / SPEED, 3, 'start of channel 1 - start of channel 0');
  });
}
