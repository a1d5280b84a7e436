/**
 * Catch-up of a device resumed after a worker restart while the broker delivers what it queued
 * during the downtime (registry option `backlog`). The device is _held_: it waits at its
 * snapshot's logical time, its timers do not run on the wall clock, and each backlog reading moves
 * it on to the reading's own time. Before a reading (and at the end, to now) the deadlines passed
 * on the way decide first, in order, as their timers would have:
 *   - a start or stop debounce at its own deadline: a job that ended during the downtime ends at
 *     the meter's drop, and one that began and ended then is a session of its own;
 *   - heartbeats due on the way fold into one at the target (a long downtime costs one heartbeat
 *     per step, not one per interval; the working/standby sums stay exact);
 *   - liveness is paused while held (silence during the downtime says nothing about the device),
 *     so no silence or poll deadline is stepped.
 *
 * Example (DeviceActor.catchUpTo):
 *   for (let t = nextStep(snapshot(), at); t !== null; t = nextStep(snapshot(), at))
 *     send({ type: 'ADVANCE', at: t });
 */
import type { SnapshotFrom } from 'xstate';
import { deadline } from './session.context.ts';
import type { SessionMachine } from './session.machine.ts';

type ValueNode = string | { [key: string]: ValueNode };

/**
 * The next instant to ADVANCE to on the way to `target`, or null when nothing is due by then.
 * Always after the device's logical time, so stepping ends.
 */
export function nextStep(snapshot: SnapshotFrom<SessionMachine>, target: number): number | null {
  const c = snapshot.context;
  const value = snapshot.value as ValueNode;
  if (snapshot.status !== 'active' || typeof value !== 'object') return null;
  if (typeof value.online !== 'object') return null; // offline: nothing is timed
  const power = value.online.power;
  let debounce: number | null = null;
  let heartbeat: number | null = null;
  if (power === 'starting') debounce = deadline.start(c);
  else if (typeof power === 'object' && typeof power.session === 'object' && c.session) {
    if (power.session.activity === 'stopping') debounce = deadline.stop(c);
    heartbeat = deadline.heartbeat(c);
  }
  const ahead = (t: number | null): t is number => t !== null && t > c.now && t <= target;
  if (ahead(debounce)) return ahead(heartbeat) && heartbeat < debounce ? heartbeat : debounce;
  return ahead(heartbeat) ? target : null;
}
