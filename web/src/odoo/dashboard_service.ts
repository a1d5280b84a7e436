/**
 * `workshop_iot.dashboard` service: builds the Odoo data source from the `orm` and `bus_service`
 * services, so the component never talks to RPC or the bus itself (STYLE rule 10).
 */
import type { DataSource } from '../data/data-source.ts';
import { OdooDataSource } from '../data/odoo-data-source.ts';
import type { BusService, OrmService } from '../data/odoo-services.ts';

export interface DashboardService {
  createDataSource(): DataSource;
}

export const dashboardService = {
  dependencies: ['orm', 'bus_service'],
  start(_env: unknown, deps: { orm: OrmService; bus_service: BusService }): DashboardService {
    return { createDataSource: () => new OdooDataSource(deps.orm, deps.bus_service) };
  },
};
