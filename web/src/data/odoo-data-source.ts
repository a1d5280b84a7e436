/**
 * Odoo data source: the list through the ORM (`workshop.device.dashboard_machines`), live updates
 * through `bus_service` notifications of type `workshop_iot/device_state`. The addon sends them on
 * the dashboard channel of the machine's company, which the server subscribes each workshop user to
 * for their allowed companies (the addon's `ir.websocket._build_bus_channel_list`), so no
 * client-side `addChannel` is needed and other users never receive them.
 */

import type { ConnectionListener, DataSource, MachineListener } from './data-source.ts';
import type { DashboardMachine } from './machine.ts';
import type { BusService, OrmService } from './odoo-services.ts';

export const DEVICE_STATE_NOTIFICATION = 'workshop_iot/device_state';

export class OdooDataSource implements DataSource {
  constructor(
    private readonly orm: OrmService,
    private readonly bus: BusService,
  ) {}

  listMachines(): Promise<DashboardMachine[]> {
    return this.orm.call<DashboardMachine[]>('workshop.device', 'dashboard_machines', []);
  }

  subscribe(listener: MachineListener): () => void {
    const callback = (payload: unknown) => listener(payload as DashboardMachine);
    this.bus.subscribe(DEVICE_STATE_NOTIFICATION, callback);
    // The backend web client already starts the bus; starting again is idempotent and makes the
    // dashboard independent of which other addons happen to be installed.
    void this.bus.start();
    return () => this.bus.unsubscribe(DEVICE_STATE_NOTIFICATION, callback);
  }

  onConnectionChange(listener: ConnectionListener): () => void {
    // `reconnect` (not `connect`) follows a `disconnect`: that is when notifications may be missed.
    const offline = () => listener(false);
    const online = () => listener(true);
    this.bus.addEventListener('disconnect', offline);
    this.bus.addEventListener('reconnect', online);
    return () => {
      this.bus.removeEventListener('disconnect', offline);
      this.bus.removeEventListener('reconnect', online);
    };
  }
}
