/**
 * The worker's dashboard feature: machine dicts from the current config, the live states and today's
 * totals, and the routes that serve them (`GET /`, `/api/machines`, `/api/events`). The composition
 * root wires it: committed events -> `recordEvents`, live states -> `liveStateChanged`, applied
 * configs -> `configChanged`.
 */
import type {
  DashboardMachine,
  DeviceConfig,
  DeviceLiveState,
  WorkerConfig,
  WorkshopEvent,
} from '@workshop-iot/shared';
import type { TokenAuth } from './auth.ts';
import { machineOf, TodayTotals } from './dashboard-machines.ts';
import { createDashboardRoutes, type DashboardRoutes, serverRoutes } from './dashboard-routes.ts';
import type { HttpServer } from './server.ts';

export interface WorkerDashboardOptions {
  config(): WorkerConfig;
  liveState(deviceId: string): DeviceLiveState | undefined;
  auth: TokenAuth;
}

export class WorkerDashboard {
  readonly #options: WorkerDashboardOptions;
  readonly #today = new TodayTotals();
  readonly #stateListeners = new Set<(machine: DashboardMachine) => void>();
  readonly #reloadListeners = new Set<() => void>();
  #index: { config: WorkerConfig; byId: Map<string, DeviceConfig> } | null = null;
  #routes: DashboardRoutes | null = null;

  constructor(options: WorkerDashboardOptions) {
    this.#options = options;
  }

  /** Adds the dashboard's routes to the server. */
  register(server: HttpServer): void {
    this.#routes = createDashboardRoutes({
      listMachines: () => this.machines(),
      subscribe: (listener) => {
        this.#stateListeners.add(listener);
        return () => this.#stateListeners.delete(listener);
      },
      subscribeReload: (listener) => {
        this.#reloadListeners.add(listener);
        return () => this.#reloadListeners.delete(listener);
      },
      auth: this.#options.auth,
      onUnauthorized: (req, failure) => server.recordFailedLogin(req, failure),
    });
    for (const route of serverRoutes(this.#routes)) server.addRoute(route);
  }

  /** Every configured machine (`GET /api/machines`). */
  machines(): DashboardMachine[] {
    return this.#options
      .config()
      .devices.map((d) => this.#machine(d.device_id, this.#options.liveState(d.device_id)))
      .filter((m): m is DashboardMachine => m !== null);
  }

  recordEvents(events: readonly WorkshopEvent[]): void {
    this.#today.record(events);
  }

  liveStateChanged(state: DeviceLiveState): void {
    if (this.#stateListeners.size === 0) return;
    const machine = this.#machine(state.device_id, state);
    if (machine) for (const listener of this.#stateListeners) listener(machine);
  }

  /** Open browsers reload the list when machines were added, changed or removed. */
  configChanged(changes: { added: string[]; updated: string[]; removed: string[] }): void {
    if (changes.added.length + changes.updated.length + changes.removed.length === 0) return;
    for (const listener of this.#reloadListeners) listener();
  }

  /** Ends every open event stream (before the HTTP server closes). */
  stop(): void {
    this.#routes?.stop();
  }

  #machine(deviceId: string, live: DeviceLiveState | undefined): DashboardMachine | null {
    const device = this.#deviceById().get(deviceId);
    if (!device) return null;
    return machineOf(device, live, this.#today.of(live, deviceId), new Date().toISOString());
  }

  /** Devices by id for the current config (live state changes arrive one device at a time). */
  #deviceById(): Map<string, DeviceConfig> {
    const config = this.#options.config();
    if (this.#index?.config !== config)
      this.#index = { config, byId: new Map(config.devices.map((d) => [d.device_id, d])) };
    return this.#index.byId;
  }
}
