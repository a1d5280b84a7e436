/**
 * What every phase of the end-to-end scenario works with: the running stack, an admin's JSON-RPC
 * session on Odoo, the worker's control API, the recording tap, and helpers to read Odoo's rows.
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import type { OdooJsonRpc } from '../dev/odoo.ts';
import type { Stack, StackInfo } from '../dev/stack.ts';
import type { WorkerControl } from '../dev/worker.ts';
import type { Checks } from './checks.ts';
import type { OdooTap } from './odoo-tap.ts';

export interface Ctx {
  checks: Checks;
  stack: Stack;
  info: StackInfo;
  /** Admin session; `relogin()` after an Odoo restart. */
  rpc: OdooJsonRpc;
  relogin(): Promise<void>;
  control: WorkerControl;
  tap: OdooTap;
  /** Device ids the scenario created, all phases. */
  devices: Set<string>;
  /** `--screenshots <dir>`: phases save screenshots for the readmes there. */
  screenshots: string | null;
}

export interface SessionRow {
  id: number;
  session_uid: string;
  device_id: [number, string];
  state: 'running' | 'done' | 'timeout';
  stop_reason: string | false;
  started_at: string;
  ended_at: string | false;
  total_s: number;
  working_s: number;
  standby_s: number;
  energy_wh: number;
  billable_s: number;
  billing_units: number;
  billing_state: string;
  has_start_event: boolean;
  has_stop_event: boolean;
  seq_gap_count: number;
}

export const SESSION_FIELDS = [
  'session_uid',
  'device_id',
  'state',
  'stop_reason',
  'started_at',
  'ended_at',
  'total_s',
  'working_s',
  'standby_s',
  'energy_wh',
  'billable_s',
  'billing_units',
  'billing_state',
  'has_start_event',
  'has_stop_event',
  'seq_gap_count',
];

/** Odoo's datetime strings are UTC without a zone, to the second ('2026-01-01 10:00:00'). */
export function odooTime(value: string): number {
  return Date.parse(`${value.replace(' ', 'T')}Z`);
}

export function sessionsOf(ctx: Ctx, deviceRecordIds: number[]): Promise<SessionRow[]> {
  return ctx.rpc.searchRead<SessionRow>(
    'workshop.session',
    [['device_id', 'in', deviceRecordIds]],
    SESSION_FIELDS,
    { order: 'started_at asc, id asc', context: { active_test: false } },
  );
}

/** Odoo create values for a machine on the stack's worker (what an admin types in the form). */
export function deviceVals(
  ctx: Ctx,
  config: DeviceConfig,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const sc = config.session_config;
  return {
    name: config.name,
    device_id: config.device_id,
    topic: config.topic,
    parser_type: config.parser_type,
    area: 'E2E',
    worker_id: ctx.info.workerId,
    standby_threshold_w: sc.standby_threshold_w,
    working_threshold_w: sc.working_threshold_w,
    start_debounce_s: sc.start_debounce_s,
    stop_debounce_s: sc.stop_debounce_s,
    message_timeout_s: sc.message_timeout_s,
    heartbeat_interval_s: sc.heartbeat_interval_s,
    ...extra,
  };
}

/** The worker's config has (or no longer has) these devices. */
export async function workerHasDevices(ctx: Ctx, ids: string[]): Promise<boolean> {
  const { config } = await ctx.control.config();
  const have = new Set(config.devices.map((d) => d.device_id));
  return ids.every((id) => have.has(id));
}
