/**
 * Debug-level timing lines of the worker's Odoo calls, read by the latency benches
 * (scripts/bench/e2e-latency.ts) to split publish -> Odoo commit into phases: one line per call with
 * when it was asked for or went out (`stage`), when its answer came back, and for `events.ingest`
 * the events' uids. Times are milliseconds since the epoch (sub-millisecond), on this machine's
 * clock. At any level above debug the wrapper calls straight through and builds nothing.
 */
import type { Logger } from '../log.ts';
import type { OdooApi } from './rpc-client.ts';

/** `requested`: the caller asked (before the one-call-at-a-time lane); `sent`: the HTTP call itself. */
export type TraceStage = 'requested' | 'sent';

export const epochMs = (): number => performance.timeOrigin + performance.now();

export function traceOdooCalls(api: OdooApi, log: Logger, stage: TraceStage): OdooApi {
  const traced = <P, R>(method: string, call: (params: P, signal?: AbortSignal) => Promise<R>) => {
    return async (params: P, signal?: AbortSignal): Promise<R> => {
      if (!log.isLevelEnabled('debug')) return call(params, signal);
      const start = epochMs();
      let ok = false;
      try {
        const result = await call(params, signal);
        ok = true;
        return result;
      } finally {
        const events = (params as { events?: { event_uid: string }[] }).events;
        log.debug(
          {
            trace: 'odoo_call',
            stage,
            method,
            start_ms: start,
            end_ms: epochMs(),
            ok,
            ...(events ? { event_uids: events.map((e) => e.event_uid) } : {}),
          },
          'Odoo call timing',
        );
      }
    };
  };
  return {
    hello: traced('worker.hello', (p, s) => api.hello(p, s)),
    ingest: traced('events.ingest', (p, s) => api.ingest(p, s)),
    status: traced('worker.status', (p, s) => api.status(p, s)),
    discoveryReport: traced('discovery.report', (p, s) => api.discoveryReport(p, s)),
  };
}
