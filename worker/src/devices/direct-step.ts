/**
 * Direct steps: the session machine's hot transitions done on a parked device's snapshot without an
 * XState macrostep. A state change through XState costs 50-70 µs of event-loop time (selecting and
 * resolving transitions, entry/exit sets, the eventless loop, scheduling); when power comes back
 * after a cut, a hundred machines switch at once and that is the burst's whole latency. The machine
 * stays the definition: these steps reproduce, for a few well-defined cases, exactly what its
 * macrostep would produce, and decline everything else (the device is then woken and XState runs).
 *
 * Covered, on a parked device that is online:
 *   - a fresh reading that crosses a threshold (idle -> starting, starting -> idle, standby <->
 *     working, standby/working -> stopping, stopping -> standby/working), when no deadline is due;
 *   - a sign of life while listening (ALIVE, availability online, retained or not);
 *   - its own timers firing: start and stop debounce, heartbeat, the silence timer re-arming;
 *   - the eventless transitions these lead to (a zero debounce confirms or ends at once, a due
 *     heartbeat), as long as exactly the expected one is enabled.
 * What a step yields is what the macrostep would: the next snapshot (context, value, and the list
 * of active state nodes in XState's own order, which decides the order of later eventless
 * transitions), the event drafts, and the timers to cancel and to arm (same ids, same delays; a
 * timer armed and cancelled within the step is never armed). Computed purely first: a step that
 * meets anything unexpected returns null and has changed nothing.
 * direct-step.test.ts compares every step with XState's own; parking.test.ts runs random scenarios
 * with and without parking (hence with and without direct steps) and requires the same events.
 */
import type { AnyStateNode, StateValue } from 'xstate';
import {
  type DeviceContext,
  type DeviceEvent,
  deadline,
  type EventDraft,
  type ReadingEvent,
} from './session.context.ts';
import type { SessionMachine } from './session.machine.ts';
import { sessionMachine } from './session.machine.ts';
import * as step from './session.steps.ts';

type Snapshot = import('xstate').SnapshotFrom<SessionMachine>;

const node = (id: string): AnyStateNode => sessionMachine.getStateNodeById(id);

/** The state nodes the direct steps move between (ids as the machine declares them). */
const N = {
  idle: node('idle'),
  starting: node('device.online.power.starting'),
  session: node('device.online.power.session'),
  activity: node('device.online.power.session.activity'),
  standby: node('standby'),
  working: node('working'),
  stopping: node('device.online.power.session.activity.stopping'),
  heartbeat: node('device.online.power.session.heartbeat'),
  ticking: node('device.online.power.session.heartbeat.ticking'),
  listening: node('device.online.liveness.listening'),
  polling: node('device.online.liveness.polling'),
};

/** XState's id (= event type) of a state's delayed transition, as its scheduler keys it. */
const timerOf = (n: AnyStateNode): string => n.after[0]!.eventType;

/** Timer ids of the timed states. */
export const TIMER = {
  start: timerOf(N.starting),
  stop: timerOf(N.stopping),
  heartbeat: timerOf(N.ticking),
  silence: timerOf(N.listening),
  poll: timerOf(N.polling),
} as const;

/** A timer a step arms: XState's id (its `after` event type) and delay in ms. */
export interface ArmedTimer {
  id: string;
  delay: number;
}

export interface DirectStep {
  snapshot: Snapshot;
  drafts: EventDraft[];
  /** Timers armed before this step that it cancels (exited states), in XState's order. */
  cancel: string[];
  /** Timers it arms (entered states), in XState's order. */
  arm: ArmedTimer[];
}

const remaining = (c: DeviceContext, due: number) => Math.max(0, due - c.now);

/**
 * The step being built: the context and configuration after each microstep so far. A microstep is
 * `leave(exit)`, the transition's action on `ctx`, `enter(entered)`, as XState's: exited nodes
 * leave the list (their timers are cancelled), entered ones join at its end in document order
 * (their timers armed from the context as it then stands), unless the set is the same as before
 * (a state that re-enters itself keeps its place). Node lists are passed already in XState's exit
 * order (deepest first) and entry order (document order). Hot path: no closures, few allocations.
 */
class Plan {
  ctx: DeviceContext;
  nodes: AnyStateNode[];
  readonly drafts: EventDraft[] = [];
  readonly cancel: string[] = [];
  readonly arm: ArmedTimer[] = [];
  #before: AnyStateNode[];

  constructor(snapshot: Snapshot, ctx: DeviceContext) {
    this.ctx = ctx;
    this.nodes = snapshot._nodes as AnyStateNode[];
    this.#before = this.nodes;
  }

  /** Exits `exit` (deepest first); `cancel`: false when the state's own timer just fired. */
  leave(exit: readonly AnyStateNode[], cancel = true): void {
    this.#before = this.nodes;
    const nodes: AnyStateNode[] = [];
    for (const n of this.nodes) if (!exit.includes(n)) nodes.push(n);
    this.nodes = nodes;
    if (!cancel) return;
    for (const n of exit) {
      const id = timerIdOf(n);
      if (id === null || !this.#before.includes(n)) continue;
      const armed = this.arm.findIndex((t) => t.id === id);
      if (armed >= 0) this.arm.splice(armed, 1);
      else this.cancel.push(id);
    }
  }

  /** Enters `enter` (document order), arming their timers. */
  enter(enter: readonly AnyStateNode[]): void {
    const nodes = this.nodes;
    for (const n of enter) {
      nodes.push(n);
      if (n === N.listening) this.ctx = step.armSilence(this.ctx);
      const delay = entryDelay(n, this.ctx);
      if (delay !== null) this.arm.push({ id: timerIdOf(n)!, delay });
    }
    const before = this.#before;
    if (nodes.length === before.length && nodes.every((n) => before.includes(n)))
      this.nodes = before;
  }

  /** Takes a step function's result that also emits drafts. */
  emit(r: step.StepResult): void {
    for (const d of r.drafts) this.drafts.push(d);
    this.ctx = r.ctx;
  }

  has(n: AnyStateNode): boolean {
    return this.nodes.includes(n);
  }
}

function timerIdOf(n: AnyStateNode): string | null {
  if (n === N.starting) return TIMER.start;
  if (n === N.stopping) return TIMER.stop;
  if (n === N.ticking) return TIMER.heartbeat;
  if (n === N.listening) return TIMER.silence;
  if (n === N.polling) return TIMER.poll;
  return null;
}

/** The delay XState's `after` resolves on entering `n` (the machine's `delays`), or null. */
function entryDelay(n: AnyStateNode, c: DeviceContext): number | null {
  if (n === N.starting) return remaining(c, deadline.start(c));
  if (n === N.stopping) return remaining(c, deadline.stop(c));
  if (n === N.ticking) return remaining(c, deadline.heartbeat(c));
  if (n === N.listening) return remaining(c, c.silenceDueAt);
  if (n === N.polling) return remaining(c, deadline.poll(c));
  return null;
}

type Eventless = 'confirm-working' | 'confirm-standby' | 'power-off' | 'heartbeat' | 'other';

/**
 * The eventless transitions enabled now, in XState's order (atomic nodes in list order, the first
 * enabled `always` of each). The machine's guards, read off the same deadlines.
 */
function eventless(plan: Plan): Eventless[] {
  const c = plan.ctx;
  const due: Eventless[] = [];
  for (const n of plan.nodes) {
    if (n === N.starting) {
      if (c.now >= deadline.start(c))
        due.push(c.session!.kind === 'working' ? 'confirm-working' : 'confirm-standby');
    } else if (n === N.stopping) {
      if (c.now >= deadline.stop(c)) due.push('power-off');
    } else if (n === N.ticking) {
      if (c.now >= deadline.heartbeat(c)) due.push('heartbeat');
    } else if (n === N.listening) {
      if (c.now >= deadline.silence(c)) due.push('other');
    } else if (n === N.polling) {
      if (c.now >= deadline.poll(c)) due.push('other');
    }
  }
  return due;
}

/** What confirming a session enters: the session with `activity` and its heartbeat region. */
const SESSION_WITH_WORKING = [N.session, N.activity, N.working, N.heartbeat, N.ticking];
const SESSION_WITH_STANDBY = [N.session, N.activity, N.standby, N.heartbeat, N.ticking];
/** Every node of the session, deepest first (what ending it exits, as far as it is active). */
const SESSION_EXIT = [
  N.ticking,
  N.heartbeat,
  N.stopping,
  N.working,
  N.standby,
  N.activity,
  N.session,
];
const ONLY = {
  idle: [N.idle],
  starting: [N.starting],
  standby: [N.standby],
  working: [N.working],
  stopping: [N.stopping],
  ticking: [N.ticking],
  listening: [N.listening],
};

/**
 * Runs the eventless transitions the step leads to, one microstep each, until none is enabled.
 * False when more than one is enabled at once or one the direct steps do not cover (a poll, going
 * offline): XState then does the whole step.
 */
function settle(plan: Plan): boolean {
  for (let guard = 0; guard < 8; guard++) {
    const due = eventless(plan);
    if (due.length === 0) return true;
    if (due.length > 1) return false;
    switch (due[0]) {
      case 'confirm-working':
      case 'confirm-standby':
        plan.leave(ONLY.starting);
        plan.emit(step.confirmSession(plan.ctx));
        plan.enter(due[0] === 'confirm-working' ? SESSION_WITH_WORKING : SESSION_WITH_STANDBY);
        break;
      case 'power-off':
        plan.leave(SESSION_EXIT);
        plan.emit(step.closeSession(plan.ctx, 'power_off', plan.ctx.now));
        plan.enter(ONLY.idle);
        break;
      case 'heartbeat':
        plan.leave(ONLY.ticking);
        plan.emit(step.heartbeat(plan.ctx));
        plan.enter(ONLY.ticking);
        break;
      default:
        return false;
    }
  }
  return false;
}

type PowerState = 'idle' | 'starting' | 'standby' | 'working' | 'stopping';

function powerStateOf(plan: Plan): PowerState | null {
  if (plan.has(N.idle)) return 'idle';
  if (plan.has(N.starting)) return 'starting';
  if (plan.has(N.standby)) return 'standby';
  if (plan.has(N.working)) return 'working';
  if (plan.has(N.stopping)) return 'stopping';
  return null;
}

type ReadingStep = (c: DeviceContext, e: ReadingEvent) => DeviceContext;

/** One microstep of a reading: `from` -> `to` with `run`. */
function readingStep(
  plan: Plan,
  from: PowerState,
  run: ReadingStep,
  to: PowerState,
  e: ReadingEvent,
) {
  plan.leave(ONLY[from]);
  plan.ctx = run(plan.ctx, e);
  plan.enter(ONLY[to]);
  return true;
}

/** The transition a fresh reading takes in `state`, as the machine's READING handlers decide. */
function readingMove(plan: Plan, state: PowerState, e: ReadingEvent): boolean {
  const p = e.power_w;
  const { standby_threshold_w: standby, working_threshold_w: working } = plan.ctx.config;
  switch (state) {
    case 'idle':
      return p >= standby && readingStep(plan, state, step.beginStarting, 'starting', e);
    case 'starting':
      return p < standby && readingStep(plan, state, step.abortStarting, 'idle', e);
    case 'standby':
      if (p < standby) return readingStep(plan, state, step.beginStopping, 'stopping', e);
      return p >= working && readingStep(plan, state, step.switchLevel, 'working', e);
    case 'working':
      if (p < standby) return readingStep(plan, state, step.beginStopping, 'stopping', e);
      return p < working && readingStep(plan, state, step.switchLevel, 'standby', e);
    case 'stopping':
      if (p >= working) return readingStep(plan, state, step.switchLevel, 'working', e);
      return p >= standby && readingStep(plan, state, step.switchLevel, 'standby', e);
  }
}

/** The state change a fresh reading causes on a parked, online device, or null (XState decides). */
export function directReading(snapshot: Snapshot, event: ReadingEvent): DirectStep | null {
  if (event.retained || snapshot.status !== 'active') return null;
  const plan = new Plan(snapshot, snapshot.context);
  // Any deadline already due at this instant (a late timer) would decide first: XState's job.
  if (eventless(plan).length > 0 || event.at < plan.ctx.now) return null;
  const state = powerStateOf(plan);
  if (state === null || !plan.has(N.listening)) return null;
  try {
    if (!readingMove(plan, state, event) || !settle(plan)) return null;
  } catch {
    return null; // a step function threw (a bug): left to XState, which reports it
  }
  return result(plan, snapshot);
}

/**
 * A sign of life on a parked, online, listening device: ALIVE, or an availability message saying
 * online (retained ones too: a reconnect replays one per device). The machine only books it
 * (`noteAlive`); the eventless transitions it may lead to are as for any step. `ctx`: as for
 * `directTimer`. Offline availability (the device goes offline) is XState's.
 */
export function directAlive(
  snapshot: Snapshot,
  event: Extract<DeviceEvent, { type: 'ALIVE' | 'AVAILABILITY' }>,
  ctx: DeviceContext = snapshot.context,
): DirectStep | null {
  if (snapshot.status !== 'active' || (event.type === 'AVAILABILITY' && !event.online)) return null;
  const plan = new Plan(snapshot, ctx);
  if (!plan.has(N.listening) || eventless(plan).length > 0) return null;
  try {
    plan.ctx = step.noteAlive(plan.ctx, event);
    if (!settle(plan)) return null;
  } catch {
    return null;
  }
  return result(plan, snapshot);
}

/** The timed state each timer belongs to, and its deadline (the `advanceTo*` actions). */
const TIMED: Record<string, [AnyStateNode[], (c: DeviceContext) => number]> = {
  [TIMER.start]: [ONLY.starting, deadline.start],
  [TIMER.stop]: [ONLY.stopping, deadline.stop],
  [TIMER.heartbeat]: [ONLY.ticking, deadline.heartbeat],
  [TIMER.silence]: [ONLY.listening, (c) => c.silenceDueAt],
};

/**
 * What one of the parked device's own timers does when it fires, or null (XState decides). `ctx`:
 * the snapshot's context with the fast lane's bookkeeping taken over (the SYNC that precedes a
 * timer; it never moves the machine, see SyncEvent).
 */
export function directTimer(
  snapshot: Snapshot,
  timerId: string,
  ctx: DeviceContext = snapshot.context,
): DirectStep | null {
  const timed = Object.hasOwn(TIMED, timerId) ? TIMED[timerId] : undefined;
  if (!timed || snapshot.status !== 'active') return null;
  const plan = new Plan(snapshot, ctx);
  const [state, due] = timed;
  if (!plan.has(state[0]!) || eventless(plan).length > 0) return null;
  try {
    // The state re-enters itself; its own timer has fired, so exiting cancels nothing.
    plan.leave(state, false);
    plan.ctx = step.advanceTo(plan.ctx, due(plan.ctx));
    plan.enter(state);
    if (!settle(plan)) return null;
  } catch {
    return null;
  }
  return result(plan, snapshot);
}

/** The next snapshot: the parked one with the new context, nodes and value. */
function result(plan: Plan, snapshot: Snapshot): DirectStep {
  return {
    snapshot: withShared(snapshot, plan.nodes, plan.ctx),
    drafts: plan.drafts,
    cancel: plan.cancel,
    arm: plan.arm,
  };
}

/**
 * A parked snapshot that shares what every device in the same configuration has alike: the list of
 * active nodes, the state value and the (empty) tag set, instead of a copy each (a few hundred
 * bytes per device, times 10,000). Nothing mutates them: XState builds new ones for every step, a
 * direct step too, and they are frozen.
 */
export function compactParked(snapshot: Snapshot): Snapshot {
  return withShared(snapshot, snapshot._nodes as AnyStateNode[]);
}

function withShared(
  snapshot: Snapshot,
  nodes: readonly AnyStateNode[],
  context: DeviceContext = snapshot.context,
): Snapshot {
  const shared = configuration(nodes);
  const tags = snapshot.tags.size === 0 ? NO_TAGS : snapshot.tags;
  return { ...snapshot, context, _nodes: shared.nodes, value: shared.value, tags } as Snapshot;
}
const NO_TAGS: Set<string> = new Set();

/**
 * The state value of a configuration, as XState derives it (`getStateValue`): children in the order
 * they appear in the list of active nodes.
 */
export function stateValueOf(nodes: readonly AnyStateNode[]): StateValue {
  return configuration(nodes).value;
}

/**
 * A configuration (active nodes in order) and its state value, built once, frozen and shared: a
 * machine has few of them.
 */
function configuration(nodes: readonly AnyStateNode[]): {
  nodes: AnyStateNode[];
  value: StateValue;
} {
  let key = '';
  for (const n of nodes) key += `${n.order},`;
  let shared = configurations.get(key);
  if (shared === undefined) {
    shared = {
      nodes: Object.freeze([...nodes]) as AnyStateNode[],
      value: deepFreeze(buildValue(nodes)),
    };
    configurations.set(key, shared);
  }
  return shared;
}
const configurations = new Map<string, { nodes: AnyStateNode[]; value: StateValue }>();

function buildValue(nodes: readonly AnyStateNode[]): StateValue {
  const children = new Map<AnyStateNode, AnyStateNode[]>();
  for (const n of nodes) {
    if (!children.has(n)) children.set(n, []);
    if (n.parent) {
      const list = children.get(n.parent);
      if (list) list.push(n);
      else children.set(n.parent, [n]);
    }
  }
  const valueAt = (n: AnyStateNode): StateValue => {
    const list = children.get(n);
    if (!list) return {};
    if (n.type === 'compound') {
      const child = list[0];
      if (!child) return {};
      if (child.type === 'atomic' || child.type === 'final') return child.key;
    }
    const value: Record<string, StateValue> = {};
    for (const child of list) value[child.key] = valueAt(child);
    return value;
  };
  return valueAt(sessionMachine.root);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
