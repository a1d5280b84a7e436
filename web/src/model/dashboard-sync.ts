/**
 * Keeps a `DashboardModel` in step with a `DataSource`: initial load, live updates, a reload after
 * the live channel comes back (updates may have been missed meanwhile), a retry when a load fails,
 * and the one-second tick that makes timers run.
 *
 * Updates that arrive while a (re)load is in flight are buffered and applied after the list, unless
 * the list is already newer (compared by `changed_at`), so nothing is lost and nothing goes back.
 */
import type { DataSource } from '../data/data-source.ts';
import type { DashboardMachine } from '../data/machine.ts';
import { backoffMs, type Clock, systemClock } from './clock.ts';
import type { DashboardModel } from './dashboard-model.ts';

export const TICK_MS = 1000;

export class DashboardSync {
  private readonly disposers: (() => void)[] = [];
  private buffer: DashboardMachine[] | null = null;
  private reloadPending = false;
  private loadFailures = 0;
  private retryHandle: unknown = null;
  private tickHandle: unknown = null;
  private started = false;
  private stopped = false;

  /** `model` must be the reactive proxy the component renders from, not the raw instance. */
  constructor(
    private readonly source: DataSource,
    private readonly model: DashboardModel,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Subscribe, load the list and start ticking. Resolves after the first load attempt. */
  async start(): Promise<void> {
    if (this.stopped) throw new Error('DashboardSync cannot be restarted after stop()');
    if (this.started) return;
    this.started = true;
    this.disposers.push(this.source.subscribe((machine) => this.onUpdate(machine)));
    this.disposers.push(this.source.onConnectionChange((online) => this.onConnection(online)));
    if (this.source.onReload) this.disposers.push(this.source.onReload(() => void this.load()));
    this.tickHandle = this.clock.setInterval(() => this.model.tick(this.clock.now()), TICK_MS);
    await this.load();
  }

  stop(): void {
    this.stopped = true;
    for (const dispose of this.disposers.splice(0)) dispose();
    if (this.tickHandle !== null) this.clock.clearInterval(this.tickHandle);
    if (this.retryHandle !== null) this.clock.clearTimeout(this.retryHandle);
    this.tickHandle = null;
    this.retryHandle = null;
    this.buffer = null;
  }

  /** (Re)load the whole list; a call while a load is running queues exactly one more. */
  async load(): Promise<void> {
    if (this.stopped) return;
    if (this.buffer !== null) {
      this.reloadPending = true;
      return;
    }
    if (this.retryHandle !== null) {
      this.clock.clearTimeout(this.retryHandle);
      this.retryHandle = null;
    }
    this.buffer = [];
    let machines: DashboardMachine[] | null = null;
    try {
      machines = await this.source.listMachines();
    } catch (err) {
      console.warn('workshop_iot dashboard: loading machines failed', err);
    }
    if (this.stopped) return;
    const buffered = this.buffer ?? [];
    this.buffer = null;
    if (machines === null) {
      this.model.setLoadFailed();
      this.retryHandle = this.clock.setTimeout(
        () => {
          this.retryHandle = null;
          void this.load();
        },
        backoffMs(this.loadFailures++),
      );
    } else {
      this.loadFailures = 0;
      const now = this.clock.now();
      this.model.replaceAll(machines, now);
      for (const machine of buffered) this.model.applyUpdate(machine, now);
    }
    if (this.reloadPending) {
      this.reloadPending = false;
      await this.load();
    }
  }

  private onUpdate(machine: DashboardMachine): void {
    if (this.stopped) return;
    if (this.buffer !== null) this.buffer.push(machine);
    else this.model.applyUpdate(machine, this.clock.now());
  }

  private onConnection(online: boolean): void {
    if (this.stopped) return;
    const wasOnline = this.model.online;
    this.model.setOnline(online);
    if (online && !wasOnline) void this.load();
  }
}
