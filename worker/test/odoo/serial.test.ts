/** Odoo calls from the sender and the link never overlap (they would race on the same rows). */
import { describe, expect, it } from 'vitest';
import type { OdooApi } from '../../src/odoo/rpc-client.ts';
import { serializeOdooCalls } from '../../src/odoo/serial.ts';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('serializeOdooCalls', () => {
  it('starts a call only after the previous one settled, failures included', async () => {
    const log: string[] = [];
    const ingest = deferred<never>();
    const status = deferred<never>();
    const api = {
      ingest: () => {
        log.push('ingest start');
        return ingest.promise;
      },
      status: () => {
        log.push('status start');
        return status.promise;
      },
      hello: () => {
        log.push('hello start');
        return Promise.resolve({} as never);
      },
    } as unknown as OdooApi;
    const lane = serializeOdooCalls(api);
    const first = lane.ingest({} as never);
    const second = lane.status({} as never);
    const third = lane.hello({} as never);
    await Promise.resolve();
    expect(log).toEqual(['ingest start']);
    ingest.reject(new Error('Odoo down'));
    await expect(first).rejects.toThrow('Odoo down');
    await Promise.resolve();
    expect(log).toEqual(['ingest start', 'status start']);
    status.resolve({ ok: true } as never);
    await second;
    await third;
    expect(log).toEqual(['ingest start', 'status start', 'hello start']);
  });
});
