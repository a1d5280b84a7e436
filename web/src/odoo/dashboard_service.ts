/**
 * `workshop_iot.dashboard` service: builds the Odoo data source and claim service from the `orm`
 * and `bus_service` services, so the component never talks to RPC or the bus itself (STYLE rule 10).
 */
import type { ClaimService } from '../data/claim-service.ts';
import type { DataSource } from '../data/data-source.ts';
import { OdooClaimService } from '../data/odoo-claim-service.ts';
import { OdooDataSource } from '../data/odoo-data-source.ts';
import type { BusService, OrmService } from '../data/odoo-services.ts';

export interface DashboardService {
  createDataSource(): DataSource;
  createClaimService(): ClaimService;
}

export const dashboardService = {
  dependencies: ['orm', 'bus_service'],
  start(_env: unknown, deps: { orm: OrmService; bus_service: BusService }): DashboardService {
    return {
      createDataSource: () => new OdooDataSource(deps.orm, deps.bus_service),
      createClaimService: () => new OdooClaimService(deps.orm),
    };
  },
};
