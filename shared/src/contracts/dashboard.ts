/**
 * The machine dict the live dashboard renders, sent by Odoo (`workshop.device.dashboard_machines()`
 * and the `workshop_iot/device_state` bus notification) and by the worker (`GET /api/machines`,
 * `GET /api/events`): one device's live state plus what the sender knows about the machine.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Nullable, Seconds } from './common.ts';
import { DeviceLiveState } from './rpc-odoo.ts';

export const DashboardMachine = Type.Object(
  {
    ...DeviceLiveState.properties,
    /** Odoo record id of `workshop.device`; the worker sends null (it has no Odoo ids). */
    id: Nullable(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    area: Nullable(Type.String({ maxLength: 128 })),
    today_working_s: Seconds,
    today_standby_s: Seconds,
    /**
     * Who is on the machine: the member (`res.partner` name) of the running session, else of the
     * last one. Odoo only (the worker knows no members): absent or null from the worker.
     */
    member_name: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    /**
     * The machine's open alerts (Odoo activities: offline during a session, on after closing
     * time, session too long), their summaries joined; the tile shows it as a banner. Odoo only:
     * absent or null from the worker, and null when none is open.
     */
    alert: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
  },
  { additionalProperties: false },
);

export const DashboardMachineList = Type.Array(DashboardMachine, { maxItems: 20_000 });

export type DashboardMachine = Static<typeof DashboardMachine>;
