/**
 * One Odoo call at a time (discovery's `discovery.report` included). The sender's `events.ingest`
 * and the link's `worker.status` / `worker.hello` update the same `workshop.device` and
 * `workshop.worker` rows; run concurrently they make PostgreSQL raise serialization failures that
 * Odoo retries after a random sleep of up to ~2 s (measured: 16-29 per benchmark run, publish-to-Odoo p99 1.97-2.18 s; serialized: 0, p99 50-63 ms).
 */
import type { OdooApi } from './rpc-client.ts';

export function serializeOdooCalls(api: OdooApi): OdooApi {
  let tail: Promise<unknown> = Promise.resolve();
  const lane = <T>(call: () => Promise<T>): Promise<T> => {
    const result = tail.then(call, call);
    tail = result.catch(() => undefined);
    return result;
  };
  return {
    hello: (params, signal) => lane(() => api.hello(params, signal)),
    ingest: (params, signal) => lane(() => api.ingest(params, signal)),
    status: (params, signal) => lane(() => api.status(params, signal)),
    discoveryReport: (params, signal) => lane(() => api.discoveryReport(params, signal)),
  };
}
