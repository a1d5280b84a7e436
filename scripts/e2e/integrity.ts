/**
 * Final checks over everything the scenario produced, read straight from PostgreSQL (the rows as
 * Odoo committed them) and compared with what the recording tap saw the worker send:
 * - exactly once: Odoo's events of the scenario's devices = the event_uids the worker sent, each
 *   `accepted` at most once, per-device seq 1..n without gap or repeat, all processed;
 * - the outbox snapshots (at the SIGKILL, during the Odoo outage) all ended up in Odoo;
 * - sessions unbroken: one start each, a stop when closed, working + standby <= total, no seq gaps,
 *   no overlap per machine, and one session per crash-phase machine (the kill did not split it).
 */
import { psql } from '../dev/odoo.ts';
import { waitFor } from '../lib/wait.ts';
import { assert } from './checks.ts';
import type { Ctx } from './context.ts';
import type { RecoveryFacts } from './phase-recovery.ts';

interface EventRow {
  event_uid: string;
  device_key: string;
  seq: number;
  type: string;
  state: string;
  session_uid: string;
}

async function events(ctx: Ctx): Promise<EventRow[]> {
  const rows = await psql(
    ctx.info.db,
    `SELECT event_uid, device_key, seq, event_type, state, coalesce(session_uid, '')
       FROM workshop_event WHERE worker_uid = '${ctx.info.workerUid}' ORDER BY device_key, seq`,
  );
  return rows.map(([event_uid, device_key, seq, type, state, session_uid]) => ({
    event_uid: event_uid!,
    device_key: device_key!,
    seq: Number(seq),
    type: type!,
    state: state!,
    session_uid: session_uid!,
  }));
}

// Over 50 lines on purpose: four independent checks over the same rows, each a short closure.
export async function integrityChecks(ctx: Ctx, facts: RecoveryFacts | null): Promise<void> {
  const { checks, tap } = ctx;
  let rows: EventRow[] = [];

  await checks.check('every event the worker sent is in Odoo exactly once', async () => {
    // An acknowledged event is stored; the fold cron applies it right after the commit.
    await waitFor(
      async () => (await events(ctx)).every((r) => r.state !== 'pending'),
      'the fold cron to apply every stored event',
      30_000,
      100,
    );
    rows = await events(ctx);
    const inOdoo = new Map(rows.map((r) => [r.event_uid, r]));
    assert(inOdoo.size === rows.length, 'an event_uid is stored twice');
    const sent = [...tap.sent.values()].filter((e) => ctx.devices.has(e.device_id));
    const mine = rows.filter((r) => ctx.devices.has(r.device_key));
    const missing = sent.filter((e) => !inOdoo.has(e.event_uid));
    assert(missing.length === 0, `sent but not in Odoo: ${JSON.stringify(missing.slice(0, 5))}`);
    const unknown = mine.filter((r) => !tap.sent.has(r.event_uid));
    assert(unknown.length === 0, `in Odoo but never sent: ${unknown.length}`);
    const twice = [...tap.acceptedCount].filter(([, n]) => n > 1);
    assert(twice.length === 0, `accepted more than once: ${JSON.stringify(twice.slice(0, 5))}`);
    const notProcessed = mine.filter((r) => r.state !== 'processed');
    assert(notProcessed.length === 0, `not processed: ${JSON.stringify(notProcessed.slice(0, 3))}`);
    console.log(
      `         ${mine.length} events; tap: ${tap.stats.accepted} accepted, ${tap.stats.duplicate} duplicate answers (re-sends), ${tap.stats.failed} failed calls`,
    );
  });

  await checks.check('per-device seq is 1..n with no gap and no repeat', async () => {
    const byDevice = new Map<string, number[]>();
    for (const r of rows.filter((x) => ctx.devices.has(x.device_key)))
      byDevice.set(r.device_key, [...(byDevice.get(r.device_key) ?? []), r.seq]);
    assert(
      byDevice.size === ctx.devices.size,
      `events for ${byDevice.size}/${ctx.devices.size} devices`,
    );
    for (const [device, seqs] of byDevice) {
      const expected = Array.from({ length: seqs.length }, (_, i) => i + 1).join(',');
      assert(seqs.join(',') === expected, `${device}: seqs ${seqs.join(',')}`);
    }
  });

  if (facts) {
    await checks.check(
      'events pending at both SIGKILLs and during the outage all reached Odoo',
      async () => {
        const stored = new Set(rows.map((r) => r.event_uid));
        const pending = [
          ...facts.pendingAtKill,
          ...facts.pendingAtSecondKill,
          ...facts.pendingAtOdooRestart,
        ];
        const lost = pending.filter((p) => !stored.has(p.event_uid));
        assert(lost.length === 0, `lost: ${JSON.stringify(lost.slice(0, 5))}`);
        const types = new Set(facts.pendingAtOdooRestart.map((p) => p.type));
        assert(
          types.has('session_heartbeat') && types.has('session_stopped'),
          `outage held ${[...types]}`,
        );
      },
    );
  }

  await checks.check('no session is broken', async () => {
    const sessions = await psql(
      ctx.info.db,
      `SELECT d.device_id, s.session_uid, s.state, coalesce(s.stop_reason, ''), s.has_start_event,
              s.has_stop_event, s.seq_gap_count, s.total_s, s.working_s, s.standby_s,
              extract(epoch FROM s.started_at), coalesce(extract(epoch FROM s.ended_at), 0)
         FROM workshop_session s JOIN workshop_device d ON d.id = s.device_id
        ORDER BY d.device_id, s.started_at`,
    );
    const starts = new Map<string, number>();
    const stops = new Map<string, number>();
    for (const r of rows) {
      if (r.type === 'session_started')
        starts.set(r.session_uid, (starts.get(r.session_uid) ?? 0) + 1);
      if (r.type === 'session_stopped')
        stops.set(r.session_uid, (stops.get(r.session_uid) ?? 0) + 1);
    }
    const lastEnd = new Map<string, number>();
    const perDevice = new Map<string, number>();
    for (const [
      device,
      uid,
      state,
      reason,
      hasStart,
      hasStop,
      gaps,
      total,
      working,
      standby,
      start,
      end,
    ] of sessions) {
      const tag = `${device} ${uid}`;
      perDevice.set(device!, (perDevice.get(device!) ?? 0) + 1);
      assert(
        hasStart === 't' && starts.get(uid!) === 1,
        `${tag}: ${starts.get(uid!) ?? 0} start events`,
      );
      assert((stops.get(uid!) ?? 0) <= 1, `${tag}: ${stops.get(uid!)} stop events`);
      if (state !== 'running')
        assert(hasStop === 't' && stops.get(uid!) === 1, `${tag}: ${state} without its stop event`);
      assert(Number(gaps) === 0, `${tag}: ${gaps} seq gaps`);
      assert(
        Number(working) + Number(standby) <= Number(total) + 0.001,
        `${tag}: working + standby > total`,
      );
      const previousEnd = lastEnd.get(device!);
      assert(
        previousEnd === undefined || Number(start) >= previousEnd,
        `${tag}: overlaps the previous session`,
      );
      lastEnd.set(device!, Number(end) || Number.POSITIVE_INFINITY);
      if (facts?.deviceIds.includes(device!))
        assert(state === 'done' && reason === 'power_off', `${tag}: ${state}/${reason}`);
    }
    for (const id of facts?.deviceIds ?? [])
      assert(
        perDevice.get(id) === 1,
        `${id}: ${perDevice.get(id) ?? 0} sessions (the kill split or lost it)`,
      );
  });
}
