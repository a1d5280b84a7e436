/**
 * Replay (issue 18): what sessions a machine's recorded inputs would have produced under a given
 * `session_config`, computed by the worker's own `DeviceRegistry` and session machine — the same
 * path the live worker takes (fast lane included), never a second implementation — on a simulated
 * clock (sim-clock.ts).
 *
 * The clock starts at `from`, where the device is configured (a fresh actor: what happened before the
 * range is not known). Each input: the clock advances to its time (timers due on the way fire at
 * their own instants), then the input is handed to the registry as the meter's message. Polls are
 * answered "sent": whatever answer the meter gave is a recorded input. At `to` the clock advances
 * once more and a session still open is reported with reason 'open' (its sums up to `to`, or up to
 * the drop when it was stopping), read from the machine's own shutdown close.
 *
 * Example:
 *   replay(recording.inputs('laser-1', from, to), device, { from, to }).sessions
 */
import type {
  DeviceConfig,
  ReplayedSession,
  ReplayResult,
  SessionConfig,
  SessionStoppedEvent,
  WorkshopEvent,
} from '@workshop-iot/shared';
import { pino } from 'pino';
import { DeviceRegistry } from '../devices/registry.ts';
import type { DeviceStore } from '../devices/stores.ts';
import type { RecordedInput } from '../recording/types.ts';
import { SimClock } from './sim-clock.ts';

/** The contract's bound on listed sessions (`ReplayResult.sessions`); the rest are counted. */
export const MAX_REPLAYED_SESSIONS = 10_000;

const REPLAY_WORKER_UID = 'replay';

export interface ReplayRange {
  /** Epoch ms: the device is configured here (start of the range). */
  from: number;
  /** Epoch ms: the end of the range; inputs at or after it are ignored. */
  to: number;
}

/**
 * Keeps the `session_stopped` events and nothing else: snapshots are never loaded again (a replay
 * does not restart), so they are dropped instead of serialised.
 */
class SessionCollector implements DeviceStore {
  readonly stopped: SessionStoppedEvent[] = [];

  commit(_deviceId: string, events: WorkshopEvent[]): void {
    for (const event of events) if (event.type === 'session_stopped') this.stopped.push(event);
  }

  loadSnapshot(): null {
    return null;
  }

  deleteSnapshot(): void {}
}

/**
 * Heartbeats are provisional progress reports: `session_stopped` never depends on them (see
 * worker/src/devices/README.md, "Heartbeats"), yet at 60 s they are most of a replay's state-machine
 * steps (a week of work: ~3,000 of ~5,000 timer steps, half the replay's time). The replay runs them
 * at the contract's maximum instead; the golden test (a live registry with 60 s heartbeats against
 * the replay) holds the sessions equal.
 */
const REPLAY_HEARTBEAT_S = 86_400;

export interface ReplayOptions {
  /** Keep the configured heartbeat interval (tests prove it changes nothing); default false. */
  heartbeats?: boolean;
}

/** Replays `inputs` (oldest first) for `device`, optionally under other settings (`sessionConfig`). */
export function replay(
  inputs: Iterable<RecordedInput>,
  device: DeviceConfig,
  range: ReplayRange,
  sessionConfig: SessionConfig = device.session_config,
  options: ReplayOptions = {},
): ReplayResult {
  const clock = new SimClock(range.from);
  const store = new SessionCollector();
  const registry = new DeviceRegistry({
    workerUid: REPLAY_WORKER_UID,
    store,
    clock,
    xstateClock: clock,
    log: pino({ level: 'silent' }),
    // The poll "went out": a recorded answer arrives as the next input, or the device goes offline.
    onPoll: () => true,
    // One device for the length of a replay: parking (memory of a steady device) would only add
    // the actor's rebuild to every state change (1.5x its cost); the results are the same.
    park: false,
  });
  const id = device.device_id;
  const run = options.heartbeats
    ? sessionConfig
    : { ...sessionConfig, heartbeat_interval_s: REPLAY_HEARTBEAT_S };
  registry.apply([{ ...device, session_config: run }]);
  for (const input of inputs) {
    if (input.at < range.from) continue;
    if (input.at >= range.to) break;
    clock.advanceTo(input.at);
    // A recorded reading is a DeviceInput as it stands (no copy on the hot path): its `at` is read
    // only while the registry replays a broker backlog (`setReplaying`), which never happens here;
    // the clock already stands at it.
    registry.input(id, input);
  }
  clock.advanceTo(range.to);
  const closedBefore = store.stopped.length;
  // The machine's own close at `to` gives the open session's sums; it is reported as still open.
  registry.stop({ closeSessions: true });
  const sessions = store.stopped.map((e, i) => sessionOf(e, i >= closedBefore));
  return {
    session_config: sessionConfig,
    sessions: sessions.slice(0, MAX_REPLAYED_SESSIONS),
    sessions_omitted: Math.max(0, sessions.length - MAX_REPLAYED_SESSIONS),
  };
}

function sessionOf(event: SessionStoppedEvent, open: boolean): ReplayedSession {
  const p = event.payload;
  return {
    started_at: p.started_at,
    ended_at: open ? null : p.ended_at,
    reason: open ? 'open' : p.reason,
    working_s: p.working_s,
    standby_s: p.standby_s,
    total_s: p.total_s,
    energy_wh: p.energy_wh,
  };
}
