/**
 * Worker data source: `GET /api/machines` for the list and `GET /api/events` (Server-Sent Events)
 * for live updates, as specified in web/README.md. The read-only token goes in the
 * `Authorization` header for fetch and in `?token=` for EventSource, which cannot send headers.
 *
 * EventSource retries by itself after a network error (readyState CONNECTING), but gives up for
 * good on an HTTP error status (readyState CLOSED); then we reopen it with a clamped backoff.
 */
import { backoffMs, type Clock, systemClock } from '../model/clock.ts';
import type {
  ConnectionListener,
  DataSource,
  MachineListener,
  ReloadListener,
} from './data-source.ts';
import type { DashboardMachine } from './machine.ts';

/** The part of the browser's EventSource we use, so tests can pass a fake. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  close(): void;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

const EVENT_SOURCE_CLOSED = 2;

export interface WorkerDataSourceOptions {
  /** Origin (and optional path prefix) of the worker's HTTP server, without trailing slash. */
  baseUrl: string;
  token: string | null;
  fetch?: typeof fetch;
  eventSource?: EventSourceFactory;
  clock?: Clock;
}

export class WorkerDataSource implements DataSource {
  private readonly machineListeners = new Set<MachineListener>();
  private readonly connectionListeners = new Set<ConnectionListener>();
  private readonly reloadListeners = new Set<ReloadListener>();
  private readonly fetchFn: typeof fetch;
  private readonly openEventSource: EventSourceFactory;
  private readonly clock: Clock;
  private source: EventSourceLike | null = null;
  private reconnectHandle: unknown = null;
  private attempts = 0;
  private online = true;

  constructor(private readonly options: WorkerDataSourceOptions) {
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.openEventSource = options.eventSource ?? ((url) => new EventSource(url));
    this.clock = options.clock ?? systemClock;
  }

  async listMachines(): Promise<DashboardMachine[]> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.options.token) headers.Authorization = `Bearer ${this.options.token}`;
    const response = await this.fetchFn(`${this.options.baseUrl}/api/machines`, {
      headers,
      cache: 'no-store',
    });
    if (!response.ok) throw new Error(`GET /api/machines answered HTTP ${response.status}`);
    return (await response.json()) as DashboardMachine[];
  }

  subscribe(listener: MachineListener): () => void {
    this.machineListeners.add(listener);
    this.connect();
    return () => {
      this.machineListeners.delete(listener);
      if (this.machineListeners.size === 0) this.disconnect();
    };
  }

  onConnectionChange(listener: ConnectionListener): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  onReload(listener: ReloadListener): () => void {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  }

  private eventsUrl(): string {
    const query = this.options.token ? `?token=${encodeURIComponent(this.options.token)}` : '';
    return `${this.options.baseUrl}/api/events${query}`;
  }

  private connect(): void {
    if (this.source || this.reconnectHandle !== null) return;
    const source = this.openEventSource(this.eventsUrl());
    this.source = source;
    source.addEventListener('open', () => {
      this.attempts = 0;
      this.setOnline(true);
    });
    source.addEventListener('device_state', (event) => {
      let machine: DashboardMachine;
      try {
        machine = JSON.parse(event.data) as DashboardMachine;
      } catch (err) {
        console.warn('workshop_iot dashboard: bad device_state event', err);
        return;
      }
      for (const listener of this.machineListeners) listener(machine);
    });
    source.addEventListener('reload', () => {
      for (const listener of this.reloadListeners) listener();
    });
    source.addEventListener('error', () => {
      this.setOnline(false);
      if (source.readyState !== EVENT_SOURCE_CLOSED) return;
      source.close();
      this.source = null;
      this.reconnectHandle = this.clock.setTimeout(
        () => {
          this.reconnectHandle = null;
          this.connect();
        },
        backoffMs(this.attempts++),
      );
    });
  }

  private disconnect(): void {
    this.source?.close();
    this.source = null;
    if (this.reconnectHandle !== null) this.clock.clearTimeout(this.reconnectHandle);
    this.reconnectHandle = null;
  }

  private setOnline(online: boolean): void {
    if (online === this.online) return;
    this.online = online;
    for (const listener of this.connectionListeners) listener(online);
  }
}
