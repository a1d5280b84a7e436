/**
 * The per-device session machine (docs/architecture.md "The session state machine"), one XState v5 actor per device.
 *
 *   online (parallel)
 *     power:    idle -> starting -> session(activity: standby <-> working -> stopping; heartbeat: ticking)
 *     liveness: listening -> polling (-> offline) ; paused while the broker is disconnected
 *               (every fresh message pushes the silence deadline, see `deadline.silence`)
 *   offline
 *
 * Pure: no clock, no I/O. Every input carries `at` (ms); a timer that fires moves logical time to
 * its own deadline (`advanceTo*`), and an `always` transition guarded by "is it due?" does the work.
 * So the same code path serves a timer firing on time, a config change that shortened a debounce,
 * and a restart after downtime (RESUME re-enters the timed states: delays are recomputed from the
 * persisted deadlines, overdue ones fire at once). Effects leave as emitted events: `draft` (a
 * domain event for the outbox) and `poll` (ask the device for its status).
 *
 * Ties: a timer due at the same millisecond as an input fires first (SimulatedClock and real
 * timers both run due timers before the input is handed in).
 */
import { assign, enqueueActions, raise, setup } from 'xstate';
import {
  type DeviceContext,
  type DeviceEvent,
  type DeviceMachineInput,
  deadline,
  initialContext,
  type MachineEmitted,
} from './session.context.ts';
import * as step from './session.steps.ts';

type Ctx = { context: DeviceContext; event: DeviceEvent };

const powerOf = ({ context, event }: Ctx): number | null =>
  event.type === 'READING' ? event.power_w : context.power_w;

const startDue = deadline.start;
const stopDue = deadline.stop;
const heartbeatDue = deadline.heartbeat;
const pollDue = deadline.poll;
const remaining = (c: DeviceContext, due: number) => Math.max(0, due - c.now);

export const sessionMachine = setup({
  types: {
    context: {} as DeviceContext,
    events: {} as DeviceEvent,
    input: {} as DeviceMachineInput,
    emitted: {} as MachineEmitted,
  },
  guards: {
    isRetained: ({ event }) => 'retained' in event && event.retained,
    isFresh: ({ event }) => 'retained' in event && !event.retained,
    atOrAboveStandby: (a) => (powerOf(a) ?? -1) >= a.context.config.standby_threshold_w,
    belowStandby: (a) => (powerOf(a) ?? Infinity) < a.context.config.standby_threshold_w,
    atOrAboveWorking: (a) => (powerOf(a) ?? -1) >= a.context.config.working_threshold_w,
    belowWorking: (a) => (powerOf(a) ?? Infinity) < a.context.config.working_threshold_w,
    reportsOffline: ({ event }) => event.type === 'AVAILABILITY' && !event.online,
    reportsOnline: ({ event }) => event.type === 'AVAILABILITY' && event.online,
    listenOff: ({ event }) => event.type === 'LISTEN' && !event.listening,
    startDue: ({ context }) => context.now >= startDue(context),
    startDueWorking: ({ context }) =>
      context.now >= startDue(context) && context.session!.kind === 'working',
    stopDue: ({ context }) => context.now >= stopDue(context),
    heartbeatDue: ({ context }) => context.now >= heartbeatDue(context),
    // The deadline, not the armed timer: a message that arrives after the armed instant but
    // before the timer ran (a busy event loop) has already pushed it.
    silenceDue: ({ context }) => context.now >= deadline.silence(context),
    pollDue: ({ context }) => context.now >= pollDue(context),
  },
  delays: {
    startDebounce: ({ context }) => remaining(context, startDue(context)),
    stopDebounce: ({ context }) => remaining(context, stopDue(context)),
    heartbeat: ({ context }) => remaining(context, heartbeatDue(context)),
    messageTimeout: ({ context }) => remaining(context, context.silenceDueAt),
    pollTimeout: ({ context }) => remaining(context, pollDue(context)),
  },
  actions: {
    // Hot path: plain assigns, no rev bump.
    noteReading: assign(({ context, event }) =>
      event.type === 'READING' ? step.noteReading(context, event) : context,
    ),
    noteRetained: assign(({ context, event }) => step.noteRetained(context, event)),
    sync: assign(({ context, event }) => step.sync(context, event)),
    noteAlive: assign(({ context, event }) => step.noteAlive(context, event)),
    noteStartingReading: assign(({ context, event }) => step.noteStartingReading(context, event)),
    // Power transitions.
    beginStarting: assign(({ context, event }) => step.beginStarting(context, event)),
    abortStarting: assign(({ context, event }) => step.abortStarting(context, event)),
    switchLevel: assign(({ context, event }) => step.switchLevel(context, event)),
    beginStopping: assign(({ context, event }) => step.beginStopping(context, event)),
    dropTentative: assign(
      ({ context, event }) => step.closeOnCommand(context, event, 'removed').ctx,
    ),
    // Steps that emit events.
    confirmSession: enqueueActions(({ context, enqueue }) => {
      const r = step.confirmSession(context);
      enqueue.assign(r.ctx);
      for (const draft of r.drafts) enqueue.emit({ type: 'draft', draft });
    }),
    emitHeartbeat: enqueueActions(({ context, enqueue }) => {
      const r = step.heartbeat(context);
      enqueue.assign(r.ctx);
      for (const draft of r.drafts) enqueue.emit({ type: 'draft', draft });
    }),
    stopPowerOff: enqueueActions(({ context, enqueue }) => {
      const r = step.closeSession(context, 'power_off', context.now);
      enqueue.assign(r.ctx);
      for (const draft of r.drafts) enqueue.emit({ type: 'draft', draft });
    }),
    closeRemoved: enqueueActions(({ context, event, enqueue }) => {
      const r = step.closeOnCommand(context, event, 'removed');
      enqueue.assign(r.ctx);
      for (const draft of r.drafts) enqueue.emit({ type: 'draft', draft });
    }),
    closeShutdown: enqueueActions(({ context, event, enqueue }) => {
      const r = step.closeOnCommand(context, event, 'shutdown');
      enqueue.assign(r.ctx);
      for (const draft of r.drafts) enqueue.emit({ type: 'draft', draft });
    }),
    goOfflineReported: enqueueActions(({ context, event, enqueue }) => {
      const r = step.goOffline(context, event, 'device_reported');
      enqueue.assign(r.ctx);
      for (const draft of r.drafts) enqueue.emit({ type: 'draft', draft });
    }),
    goOfflineUnanswered: enqueueActions(({ context, event, enqueue }) => {
      const r = step.goOffline(context, event, 'poll_unanswered');
      enqueue.assign(r.ctx);
      for (const draft of r.drafts) enqueue.emit({ type: 'draft', draft });
    }),
    goOfflineSilent: enqueueActions(({ context, event, enqueue }) => {
      const r = step.goOffline(context, event, 'silence');
      enqueue.assign(r.ctx);
      for (const draft of r.drafts) enqueue.emit({ type: 'draft', draft });
    }),
    comeOnline: enqueueActions(({ context, event, enqueue }) => {
      const r = step.comeOnline(context, event);
      enqueue.assign(r.ctx);
      for (const draft of r.drafts) enqueue.emit({ type: 'draft', draft });
    }),
    /** Hands the message that brought the device back to the freshly entered `online` state. */
    reprocess: raise(({ event }) => event),
    // Liveness.
    armSilence: assign(({ context }) => step.armSilence(context)),
    startPoll: enqueueActions(({ context, enqueue }) => {
      enqueue.assign(step.startPoll(context));
      enqueue.emit({ type: 'poll', at: context.now });
    }),
    listenFrom: assign(({ context, event }) => step.listenFrom(context, event)),
    advanceNow: assign(({ context, event }) => step.advanceNow(context, event)),
    applyConfig: assign(({ context, event }) => step.applyConfig(context, event)),
    resume: assign(({ context, event }) => step.resume(context, event)),
    // Timers: move logical time to the deadline; the `always` guards take it from there. The silence
    // timer moves it only to the instant it was armed for: messages since then pushed the deadline,
    // and re-entering `listening` re-arms it.
    advanceToStartDue: assign(({ context }) => step.advanceTo(context, startDue(context))),
    advanceToStopDue: assign(({ context }) => step.advanceTo(context, stopDue(context))),
    advanceToHeartbeatDue: assign(({ context }) => step.advanceTo(context, heartbeatDue(context))),
    advanceToSilenceDue: assign(({ context }) => step.advanceTo(context, context.silenceDueAt)),
    advanceToPollDue: assign(({ context }) => step.advanceTo(context, pollDue(context))),
  },
}).createMachine({
  id: 'device',
  context: ({ input }) => initialContext(input),
  initial: 'online',
  // ADVANCE moves time only: the `always` guards of the active timed states then fire what is due,
  // exactly as when their timers fire (a replayed backlog steps a resumed device through them).
  on: { SYNC: { actions: 'sync' }, ADVANCE: { actions: 'advanceNow' } },
  states: {
    online: {
      type: 'parallel',
      states: {
        power: {
          initial: 'idle',
          on: {
            ALIVE: { actions: 'noteAlive' },
            AVAILABILITY: [
              { guard: 'reportsOffline', target: '#offline', actions: 'goOfflineReported' },
              { actions: 'noteAlive' },
            ],
          },
          states: {
            idle: {
              id: 'idle',
              on: {
                READING: [
                  { guard: 'isRetained', actions: 'noteRetained' },
                  { guard: 'atOrAboveStandby', target: 'starting', actions: 'beginStarting' },
                  { actions: 'noteReading' },
                ],
              },
            },
            starting: {
              after: {
                startDebounce: { target: 'starting', reenter: true, actions: 'advanceToStartDue' },
              },
              always: [
                { guard: 'startDueWorking', target: '#working', actions: 'confirmSession' },
                { guard: 'startDue', target: '#standby', actions: 'confirmSession' },
              ],
              on: {
                READING: [
                  { guard: 'isRetained', actions: 'noteRetained' },
                  { guard: 'belowStandby', target: 'idle', actions: 'abortStarting' },
                  { actions: 'noteStartingReading' },
                ],
                CONFIG: { target: 'starting', reenter: true },
                RESUME: { target: 'starting', reenter: true },
                REMOVE: { target: 'idle', actions: 'dropTentative' },
                SHUTDOWN: { target: 'idle', actions: 'dropTentative' },
              },
            },
            session: {
              type: 'parallel',
              on: {
                REMOVE: { target: 'idle', actions: 'closeRemoved' },
                SHUTDOWN: { target: 'idle', actions: 'closeShutdown' },
              },
              states: {
                activity: {
                  initial: 'standby',
                  states: {
                    standby: {
                      id: 'standby',
                      on: {
                        READING: [
                          { guard: 'isRetained', actions: 'noteRetained' },
                          { guard: 'belowStandby', target: 'stopping', actions: 'beginStopping' },
                          { guard: 'atOrAboveWorking', target: 'working', actions: 'switchLevel' },
                          { actions: 'noteReading' },
                        ],
                      },
                    },
                    working: {
                      id: 'working',
                      on: {
                        READING: [
                          { guard: 'isRetained', actions: 'noteRetained' },
                          { guard: 'belowStandby', target: 'stopping', actions: 'beginStopping' },
                          { guard: 'belowWorking', target: 'standby', actions: 'switchLevel' },
                          { actions: 'noteReading' },
                        ],
                      },
                    },
                    stopping: {
                      after: {
                        stopDebounce: {
                          target: 'stopping',
                          reenter: true,
                          actions: 'advanceToStopDue',
                        },
                      },
                      always: { guard: 'stopDue', target: '#idle', actions: 'stopPowerOff' },
                      on: {
                        READING: [
                          { guard: 'isRetained', actions: 'noteRetained' },
                          { guard: 'atOrAboveWorking', target: 'working', actions: 'switchLevel' },
                          { guard: 'atOrAboveStandby', target: 'standby', actions: 'switchLevel' },
                          { actions: 'noteReading' },
                        ],
                        CONFIG: { target: 'stopping', reenter: true },
                        RESUME: { target: 'stopping', reenter: true },
                      },
                    },
                  },
                },
                heartbeat: {
                  initial: 'ticking',
                  states: {
                    ticking: {
                      after: {
                        heartbeat: {
                          target: 'ticking',
                          reenter: true,
                          actions: 'advanceToHeartbeatDue',
                        },
                      },
                      always: {
                        guard: 'heartbeatDue',
                        target: 'ticking',
                        reenter: true,
                        actions: 'emitHeartbeat',
                      },
                      on: {
                        CONFIG: { target: 'ticking', reenter: true },
                        RESUME: { target: 'ticking', reenter: true },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        liveness: {
          initial: 'listening',
          // RESUME and LISTEN sit on each substate, not on this region: a re-entering transition
          // declared on a region of a parallel state would exit and re-enter the sibling region
          // (power) too, resetting it to idle.
          states: {
            listening: {
              entry: 'armSilence',
              after: {
                messageTimeout: {
                  target: 'listening',
                  reenter: true,
                  actions: 'advanceToSilenceDue',
                },
              },
              always: { guard: 'silenceDue', target: 'polling', actions: 'startPoll' },
              on: {
                CONFIG: { target: 'listening', reenter: true, actions: 'applyConfig' },
                RESUME: { target: 'listening', reenter: true, actions: 'resume' },
                LISTEN: [
                  { guard: 'listenOff', target: 'paused', actions: 'advanceNow' },
                  { target: 'listening', reenter: true, actions: 'listenFrom' },
                ],
              },
            },
            polling: {
              after: {
                pollTimeout: { target: 'polling', reenter: true, actions: 'advanceToPollDue' },
              },
              always: { guard: 'pollDue', target: '#offline', actions: 'goOfflineUnanswered' },
              on: {
                READING: 'listening',
                ALIVE: 'listening',
                AVAILABILITY: { guard: 'reportsOnline', target: 'listening' },
                POLL_UNAVAILABLE: { target: '#offline', actions: 'goOfflineSilent' },
                CONFIG: { target: 'polling', reenter: true, actions: 'applyConfig' },
                RESUME: { target: 'listening', actions: 'resume' },
                LISTEN: [
                  { guard: 'listenOff', target: 'paused', actions: 'advanceNow' },
                  { target: 'listening', actions: 'listenFrom' },
                ],
              },
            },
            paused: {
              on: {
                CONFIG: { actions: 'applyConfig' },
                RESUME: { target: 'listening', actions: 'resume' },
                LISTEN: [
                  { guard: 'listenOff', actions: 'advanceNow' },
                  { target: 'listening', actions: 'listenFrom' },
                ],
              },
            },
          },
        },
      },
    },
    offline: {
      id: 'offline',
      on: {
        READING: { guard: 'isFresh', target: 'online', actions: ['comeOnline', 'reprocess'] },
        ALIVE: { guard: 'isFresh', target: 'online', actions: ['comeOnline', 'reprocess'] },
        AVAILABILITY: {
          guard: 'reportsOnline',
          target: 'online',
          actions: ['comeOnline', 'reprocess'],
        },
        CONFIG: { actions: 'applyConfig' },
        RESUME: { actions: 'resume' },
        LISTEN: { actions: 'advanceNow' },
      },
    },
  },
});

export type SessionMachine = typeof sessionMachine;
