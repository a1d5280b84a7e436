import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DashboardMachine } from '../../src/data/machine.ts';
import { type EventSourceLike, WorkerDataSource } from '../../src/data/worker-data-source.ts';
import { machine, T0 } from '../helpers/machines.ts';

/** Minimal EventSource double: the test fires events and sets readyState. */
class FakeEventSource implements EventSourceLike {
  readyState = 0;
  closed = false;
  private readonly listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  fire(type: string, data = ''): void {
    if (type === 'open') this.readyState = 1;
    for (const listener of this.listeners.get(type) ?? []) {
      listener({ data } as MessageEvent<string>);
    }
  }
}

function setup() {
  const sources: FakeEventSource[] = [];
  const fetchFn = vi.fn(
    async (_url: string | URL | Request, _init?: RequestInit) =>
      new Response(JSON.stringify([machine()]), { status: 200 }),
  );
  const source = new WorkerDataSource({
    baseUrl: 'http://worker:8080',
    token: 's3cr3t/+',
    fetch: fetchFn as unknown as typeof fetch,
    eventSource: (url) => {
      const es = new FakeEventSource(url);
      sources.push(es);
      return es;
    },
  });
  return { source, sources, fetchFn };
}

describe('WorkerDataSource', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('loads /api/machines with the token as a bearer header', async () => {
    const { source, fetchFn } = setup();
    expect(await source.listMachines()).toHaveLength(1);
    const [url, init] = fetchFn.mock.calls[0] ?? [];
    expect(url).toBe('http://worker:8080/api/machines');
    expect((init?.headers as Record<string, string> | undefined)?.Authorization).toBe(
      'Bearer s3cr3t/+',
    );
  });

  it('fails the load on an HTTP error status', async () => {
    const { source, fetchFn } = setup();
    fetchFn.mockResolvedValueOnce(new Response('no', { status: 401 }));
    await expect(source.listMachines()).rejects.toThrow('HTTP 401');
  });

  it('streams device_state events with the token in the query string', () => {
    const { source, sources } = setup();
    const received: DashboardMachine[] = [];
    source.subscribe((m) => received.push(m));
    expect(sources[0]?.url).toBe('http://worker:8080/api/events?token=s3cr3t%2F%2B');
    sources[0]?.fire('open');
    sources[0]?.fire('device_state', JSON.stringify(machine({ state: 'working' })));
    sources[0]?.fire('device_state', '{not json');
    expect(received.map((m) => m.state)).toEqual(['working']);
  });

  it('reports offline on error and online again when the browser reconnects by itself', () => {
    const { source, sources } = setup();
    const changes: boolean[] = [];
    source.onConnectionChange((online) => changes.push(online));
    source.subscribe(() => {});
    sources[0]?.fire('open');
    sources[0]?.fire('error');
    sources[0]?.fire('error');
    sources[0]?.fire('open');
    expect(changes).toEqual([false, true]);
    expect(sources).toHaveLength(1);
  });

  it('reopens a closed stream with a clamped backoff', () => {
    const { source, sources } = setup();
    source.subscribe(() => {});
    for (const [attempt, delay] of [1000, 2000, 4000].entries()) {
      const es = sources[attempt];
      if (!es) throw new Error(`no EventSource for attempt ${attempt}`);
      es.readyState = 2;
      es.fire('error');
      vi.advanceTimersByTime(delay - 1);
      expect(sources).toHaveLength(attempt + 1);
      vi.advanceTimersByTime(1);
      expect(sources).toHaveLength(attempt + 2);
    }
    sources[3]?.fire('open');
    sources[3]!.readyState = 2;
    sources[3]?.fire('error');
    vi.advanceTimersByTime(1000);
    expect(sources).toHaveLength(5);
  });

  it('passes reload events on and closes the stream after the last unsubscribe', () => {
    const { source, sources } = setup();
    const reload = vi.fn();
    source.onReload(reload);
    const off = source.subscribe(() => {});
    sources[0]?.fire('reload');
    expect(reload).toHaveBeenCalledOnce();
    off();
    expect(sources[0]?.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});
