/**
 * A data source driven by the test: it serves a list, pushes updates and connection changes on
 * demand, and can fail the next loads. Used by the unit tests of the sync logic.
 */
import type {
  ConnectionListener,
  DataSource,
  MachineListener,
  ReloadListener,
} from '../data-source.ts';
import type { DashboardMachine } from '../machine.ts';

export class ScriptedDataSource implements DataSource {
  machines: DashboardMachine[];
  loadCount = 0;
  private failuresLeft = 0;
  private pendingLoad: { resolve: () => void; promise: Promise<void> } | null = null;
  private readonly machineListeners = new Set<MachineListener>();
  private readonly connectionListeners = new Set<ConnectionListener>();
  private readonly reloadListeners = new Set<ReloadListener>();

  constructor(machines: DashboardMachine[] = []) {
    this.machines = machines;
  }

  async listMachines(): Promise<DashboardMachine[]> {
    this.loadCount += 1;
    if (this.pendingLoad) await this.pendingLoad.promise;
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('scripted load failure');
    }
    return this.machines.map((m) => ({ ...m }));
  }

  subscribe(listener: MachineListener): () => void {
    this.machineListeners.add(listener);
    return () => this.machineListeners.delete(listener);
  }

  onConnectionChange(listener: ConnectionListener): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  onReload(listener: ReloadListener): () => void {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  }

  /** Push one update to subscribers and keep it as the machine's state for later loads. */
  push(machine: DashboardMachine): void {
    this.machines = [...this.machines.filter((m) => m.device_id !== machine.device_id), machine];
    for (const listener of this.machineListeners) listener({ ...machine });
  }

  setOnline(online: boolean): void {
    for (const listener of this.connectionListeners) listener(online);
  }

  requestReload(): void {
    for (const listener of this.reloadListeners) listener();
  }

  failNextLoads(count: number): void {
    this.failuresLeft = count;
  }

  /** Hold every load until the returned function is called (to test updates during a load). */
  holdLoads(): () => void {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.pendingLoad = { resolve, promise };
    return () => {
      this.pendingLoad = null;
      resolve();
    };
  }

  get listenerCount(): number {
    return this.machineListeners.size + this.connectionListeners.size + this.reloadListeners.size;
  }
}
