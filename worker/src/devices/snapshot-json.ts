/**
 * The persisted snapshot as JSON text, written field by field: `JSON.stringify` of the snapshot was
 * a quarter of a state change's cost (about 4 µs for a 1 KB snapshot, most of it formatting the
 * epoch-millisecond times, which are not small integers to V8). Same text as
 * `JSON.stringify(persistedOf(snapshot))` for every snapshot the machine produces; anything else
 * (a status other than active, a context with other fields) falls back to `JSON.stringify`.
 * snapshot-json.test.ts holds the two equal over random walks of the machine.
 *
 * Every field of DeviceContext and SessionAcc is listed below, typed so that a field added to
 * either and not here fails to compile.
 */
import type { SessionConfig } from '@workshop-iot/shared';
import type { DeviceContext, SessionAcc } from './session.context.ts';

/** A snapshot already serialised by the device: stores keep `json` as it is (stores.ts). */
export class SerializedSnapshot {
  constructor(readonly json: string) {}
}

/** The JSON text of a snapshot handed to a store (null: none). */
export function snapshotText(snapshot: unknown): string | null {
  if (snapshot === null || snapshot === undefined) return null;
  return snapshot instanceof SerializedSnapshot ? snapshot.json : JSON.stringify(snapshot);
}

/** The snapshot as a store keeps it: JSON text for a serialised one, the object otherwise. */
export function snapshotObject(snapshot: unknown): unknown {
  return snapshot instanceof SerializedSnapshot ? JSON.parse(snapshot.json) : snapshot;
}

const CONTEXT_FIELDS: { [K in keyof DeviceContext]-?: true } = {
  version: true,
  deviceId: true,
  workerUid: true,
  incarnation: true,
  config: true,
  seq: true,
  rev: true,
  now: true,
  power_w: true,
  meterWh: true,
  lastMessageAt: true,
  listenSince: true,
  silenceDueAt: true,
  pollSentAt: true,
  session: true,
};
const SESSION_FIELDS: { [K in keyof SessionAcc]-?: true } = {
  id: true,
  startedAt: true,
  kind: true,
  segmentStart: true,
  workingMs: true,
  standbyMs: true,
  energyWh: true,
  droppedAt: true,
  energyAtDropWh: true,
  hbAnchor: true,
  intervalStart: true,
  intervalBaseWorkingMs: true,
  intervalBaseStandbyMs: true,
  intervalBaseEnergyWh: true,
};
const CONFIG_FIELDS: { [K in keyof SessionConfig]-?: true } = {
  standby_threshold_w: true,
  working_threshold_w: true,
  start_debounce_s: true,
  stop_debounce_s: true,
  message_timeout_s: true,
  heartbeat_interval_s: true,
};
const CONTEXT_KEYS = Object.keys(CONTEXT_FIELDS);
const SESSION_KEYS = Object.keys(SESSION_FIELDS);
const CONFIG_KEYS = Object.keys(CONFIG_FIELDS);

/** JSON of a number as `JSON.stringify` writes it (non-finite: null). */
const num = (n: number): string => (Number.isFinite(n) ? `${n}` : 'null');
const numOrNull = (n: number | null): string => (n === null ? 'null' : num(n));
const str = (s: string | null): string => (s === null ? 'null' : JSON.stringify(s));

/** Whether `o` has exactly `keys`, in that order (the order JSON.stringify would write). */
function hasExactly(o: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const key in o) {
    if (key !== keys[i++]) return false;
  }
  return i === keys.length;
}

/** Values are few and shared (direct-step.ts): their text is kept per object. */
const valueTexts = new WeakMap<object, string>();
function valueText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  let text = valueTexts.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    if (Object.isFrozen(value)) valueTexts.set(value, text);
  }
  return text;
}

function configText(c: SessionConfig): string | null {
  if (!hasExactly(c, CONFIG_KEYS)) return null;
  return (
    `{"standby_threshold_w":${num(c.standby_threshold_w)},` +
    `"working_threshold_w":${num(c.working_threshold_w)},` +
    `"start_debounce_s":${num(c.start_debounce_s)},"stop_debounce_s":${num(c.stop_debounce_s)},` +
    `"message_timeout_s":${num(c.message_timeout_s)},` +
    `"heartbeat_interval_s":${num(c.heartbeat_interval_s)}}`
  );
}

function sessionText(s: SessionAcc | null): string | null {
  if (s === null) return 'null';
  if (!hasExactly(s, SESSION_KEYS)) return null;
  return (
    `{"id":${str(s.id)},"startedAt":${num(s.startedAt)},"kind":${str(s.kind)},` +
    `"segmentStart":${num(s.segmentStart)},"workingMs":${num(s.workingMs)},` +
    `"standbyMs":${num(s.standbyMs)},"energyWh":${numOrNull(s.energyWh)},` +
    `"droppedAt":${numOrNull(s.droppedAt)},"energyAtDropWh":${numOrNull(s.energyAtDropWh)},` +
    `"hbAnchor":${num(s.hbAnchor)},"intervalStart":${num(s.intervalStart)},` +
    `"intervalBaseWorkingMs":${num(s.intervalBaseWorkingMs)},` +
    `"intervalBaseStandbyMs":${num(s.intervalBaseStandbyMs)},` +
    `"intervalBaseEnergyWh":${numOrNull(s.intervalBaseEnergyWh)}}`
  );
}

/** The JSON of the persisted snapshot (`persistedOf`) with this status, value and context. */
export function persistedJson(
  snapshot: {
    status: string;
    output?: unknown;
    error?: unknown;
    value: unknown;
    context: DeviceContext;
  },
  fallback: () => unknown,
): string {
  const c = snapshot.context;
  if (
    snapshot.status !== 'active' ||
    snapshot.output !== undefined ||
    snapshot.error !== undefined ||
    !hasExactly(c, CONTEXT_KEYS)
  ) {
    return JSON.stringify(fallback());
  }
  const config = configText(c.config);
  const session = sessionText(c.session);
  if (config === null || session === null) return JSON.stringify(fallback());
  return (
    `{"status":"active","value":${valueText(snapshot.value)},"historyValue":{},"context":` +
    `{"version":${num(c.version)},"deviceId":${str(c.deviceId)},"workerUid":${str(c.workerUid)},` +
    `"incarnation":${num(c.incarnation)},"config":${config},"seq":${num(c.seq)},` +
    `"rev":${num(c.rev)},"now":${num(c.now)},"power_w":${numOrNull(c.power_w)},` +
    `"meterWh":${numOrNull(c.meterWh)},"lastMessageAt":${numOrNull(c.lastMessageAt)},` +
    `"listenSince":${num(c.listenSince)},"silenceDueAt":${num(c.silenceDueAt)},` +
    `"pollSentAt":${numOrNull(c.pollSentAt)},"session":${session}},"children":{}}`
  );
}
