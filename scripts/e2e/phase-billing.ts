/**
 * Phase: who used the machine, and what they owe (issue 16). A member with a card; a Tasmota plug
 * with a PN532 reader on it, paired with the machine; a service product on the machine. The member
 * presents the card over MQTT (spaces and lower case, as a reader may print it) -> the machine runs
 * a session -> the session lands on the member (source: badge) -> "Create invoices" makes a draft
 * invoice for the member with one line whose quantity is the session's billing units.
 */
import { waitFor } from '../lib/wait.ts';
import { Simulator } from '../sim/simulator.ts';
import { billingScreenshots } from './billing-screenshots.ts';
import { assert } from './checks.ts';
import { type Ctx, deviceVals, workerHasDevices } from './context.ts';

const SPEED = 10;
const CARD_AS_PRINTED = '04 a1 b2 c3 d4';
const CARD = '04A1B2C3D4';
const SESSION_CONFIG = {
  standby_threshold_w: 10,
  working_threshold_w: 100,
  start_debounce_s: 2,
  stop_debounce_s: 2,
  message_timeout_s: 60,
  heartbeat_interval_s: 10,
};

interface BilledSession {
  id: number;
  state: string;
  member_id: [number, string] | false;
  member_source: string | false;
  billing_units: number;
  billing_state: string;
}
interface MoveLine {
  quantity: number;
  product_id: [number, string] | false;
  move_id: [number, string];
}

// Over 50 lines on purpose: one phase of the scenario, its steps in order, read top to bottom.
export async function billingPhase(ctx: Ctx): Promise<void> {
  const { checks, rpc, info } = ctx;
  const sim = new Simulator({
    brokerUrl: info.brokerUrl,
    ...(info.brokerUsername ? { username: info.brokerUsername } : {}),
    ...(info.brokerPassword ? { password: info.brokerPassword } : {}),
    scenario: 'full-session',
    families: ['tasmota'],
    devices: 1,
    readers: ['tasmota-pn532'],
    // Tasmota reports every TelePeriod; 10 simulated s keeps the session's edges sharp.
    telePeriodS: 10,
    prefix: 'e2e-bill',
    speed: SPEED,
    log: () => undefined,
  });
  const device = {
    ...sim.deviceConfigs()[0]!,
    name: 'E2E CNC mill',
    session_config: SESSION_CONFIG,
  };
  const reader = sim.readerConfigs()[0]!;
  ctx.devices.add(device.device_id);
  let member = 0;
  let machine = 0;
  let invoice = 0;

  await checks.step(
    'a member with a card, a machine with a product and a paired reader',
    async () => {
      member = await rpc.callKw<number>('res.partner', 'create', [{ name: 'E2E Member' }]);
      const card = await rpc.callKw<number>('workshop.member.card', 'create', [
        { partner_id: member, card_id: CARD_AS_PRINTED },
      ]);
      const [stored] = await rpc.searchRead<{ card_id: string }>(
        'workshop.member.card',
        [['id', '=', card]],
        ['card_id'],
      );
      assert(stored?.card_id === CARD, `card stored as ${stored?.card_id}, expected ${CARD}`);
      const product = await rpc.callKw<number>('product.product', 'create', [
        { name: 'E2E machine time', type: 'service', list_price: 2.5 },
      ]);
      machine = await rpc.callKw<number>('workshop.device', 'create', [
        deviceVals(ctx, device, { billing_unit_minutes: 1, invoice_product_id: product }),
      ]);
      await rpc.callKw('workshop.badge.reader', 'create', [
        {
          name: 'E2E mill reader',
          reader_id: reader.reader_id,
          worker_id: info.workerId,
          parser_type: reader.parser_type,
          topic: reader.topic,
          device_id: machine,
        },
      ]);
      await waitFor(
        async () =>
          (await workerHasDevices(ctx, [device.device_id])) &&
          (await ctx.control.config()).config.badge_readers?.some(
            (r) => r.reader_id === reader.reader_id,
          ),
        'the machine and its reader in the worker config',
        20_000,
        100,
      );
    },
  );

  let session: BilledSession | undefined;
  await checks.step(
    'the card is presented over MQTT; the session lands on the member',
    async () => {
      await sim.start();
      try {
        await sim.presentCard(0, CARD_AS_PRINTED);
        const rows = await waitFor(
          async () => {
            const r = await rpc.searchRead<BilledSession>(
              'workshop.session',
              [['device_id', '=', machine]],
              ['state', 'member_id', 'member_source', 'billing_units', 'billing_state'],
            );
            return r.some((s) => s.state !== 'running') ? r : null;
          },
          'a closed session on the machine',
          150_000,
          1000,
        );
        assert(rows.length === 1, `${rows.length} sessions`);
        session = rows[0]!;
      } finally {
        await sim.stop();
      }
      assert(
        session.member_id && session.member_id[0] === member,
        `member ${JSON.stringify(session.member_id)}`,
      );
      assert(session.member_source === 'badge', `member from ${session.member_source}`);
      assert(session.billing_units > 0, `billing units ${session.billing_units}`);
    },
  );

  await checks.step(
    '"Create invoices": a draft for the member, quantity = billing units',
    async () => {
      await rpc.callKw('workshop.session', 'action_create_invoices', [[session!.id]]);
      const lines = await rpc.searchRead<MoveLine>(
        'account.move.line',
        [
          ['move_id.partner_id', '=', member],
          ['display_type', '=', 'product'],
        ],
        ['quantity', 'product_id', 'move_id'],
      );
      assert(lines.length === 1, `${lines.length} invoice lines: ${JSON.stringify(lines)}`);
      assert(
        lines[0]!.quantity === session!.billing_units,
        `quantity ${lines[0]!.quantity}, units ${session!.billing_units}`,
      );
      const [move] = await rpc.searchRead<{ state: string; move_type: string }>(
        'account.move',
        [['id', '=', lines[0]!.move_id[0]]],
        ['state', 'move_type'],
      );
      assert(move?.state === 'draft' && move.move_type === 'out_invoice', JSON.stringify(move));
      const [after] = await rpc.searchRead<BilledSession>(
        'workshop.session',
        [['id', '=', session!.id]],
        ['billing_state'],
      );
      console.log(
        `         ${session!.billing_units} unit(s) on a draft invoice; session ${after?.billing_state}`,
      );
      invoice = lines[0]!.move_id[0];
    },
  );

  if (ctx.screenshots) {
    const dir = ctx.screenshots;
    await checks.check("screenshots: the draft invoice, the member's portal sessions", () =>
      billingScreenshots(ctx, dir, { member, invoice }),
    );
  }
}
