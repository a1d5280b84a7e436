/**
 * Odoo entry point (bundled to addon/workshop_iot/static/src/dashboard/dashboard.js): registers
 * the `workshop_iot.dashboard` service and the client action of the same tag. A click on a tile
 * opens the machine's sessions, its "Claim" button assigns the machine's session to a member;
 * `context.kiosk` in the action starts in kiosk mode, `context.claim_as_myself` makes the button
 * claim for the logged-in user (self-service screens, `workshop_iot.dashboard_self_service_action`).
 */
import { Component, onWillStart, xml } from '@odoo/owl';
import { registry } from '@web/core/registry';
import { user } from '@web/core/user';
import { useService } from '@web/core/utils/hooks';
import { standardActionServiceProps } from '@web/webclient/actions/action_service';
import { Dashboard } from '../components/dashboard.ts';
import type { ClaimService } from '../data/claim-service.ts';
import type { DataSource } from '../data/data-source.ts';
import type { ActionService, OrmService } from '../data/odoo-services.ts';
import type { MachineView } from '../model/dashboard-model.ts';
import { toBcp47 } from '../model/format.ts';
import type { DashboardLabels } from '../model/labels.ts';
import { type DashboardService, dashboardService } from './dashboard_service.ts';
import './duration_field.ts';
import { odooLabels, sessionsOfLabel, stateNames } from './labels.ts';

export const DASHBOARD_ACTION_TAG = 'workshop_iot.dashboard';
const MANAGER_GROUP = 'workshop_iot.workshop_iot_group_manager';

interface ClientActionProps {
  action: { context?: Record<string, unknown> };
  className?: string;
}

export class WorkshopDashboardAction extends Component<ClientActionProps> {
  static components = { Dashboard };
  static override props = { ...standardActionServiceProps };
  static override template = xml`
    <Dashboard dataSource="dataSource" labels="labels" locale="locale" kiosk="kiosk"
               onOpenMachine.bind="openMachine"
               onAddMachine="canAddMachines ? addMachine : undefined"
               claims="claims" claimAsMyself="claimAsMyself"
               className="props.className"/>`;

  dataSource!: DataSource;
  claims!: ClaimService;
  claimAsMyself = false;
  labels!: DashboardLabels;
  locale: string | undefined;
  kiosk = false;
  /** A workshop manager: the empty dashboard offers to add the first machine. */
  canAddMachines = false;
  private actionService!: ActionService;

  override setup(): void {
    const dashboard = useService<DashboardService>('workshop_iot.dashboard');
    this.dataSource = dashboard.createDataSource();
    // Every dashboard viewer is a workshop user (the menu's group), who may claim; the server checks.
    this.claims = dashboard.createClaimService();
    this.actionService = useService<ActionService>('action');
    const orm = useService<OrmService>('orm');
    this.locale = toBcp47(user.lang);
    this.kiosk = Boolean(this.props.action?.context?.kiosk);
    this.claimAsMyself = Boolean(this.props.action?.context?.claim_as_myself);
    onWillStart(async () => {
      // Only what to offer; creating a machine is checked by the server's access rules.
      const [canAddMachines, states] = await Promise.all([
        user.hasGroup(MANAGER_GROUP),
        stateNames(orm),
      ]);
      this.canAddMachines = canAddMachines;
      this.labels = odooLabels(canAddMachines, states);
    });
  }

  /** A new machine in the standard form of `workshop.device`; back to the dashboard after it. */
  readonly addMachine = (): void => {
    void this.actionService.doAction({
      type: 'ir.actions.act_window',
      res_model: 'workshop.device',
      views: [[false, 'form']],
      target: 'current',
    });
  };

  /** The machine's sessions, newest first, in the standard list/form views of `workshop.session`. */
  openMachine(view: MachineView): void {
    if (view.id === null) return;
    void this.actionService.doAction({
      type: 'ir.actions.act_window',
      name: sessionsOfLabel(view.name),
      res_model: 'workshop.session',
      views: [
        [false, 'list'],
        [false, 'form'],
      ],
      domain: [['device_id', '=', view.id]],
      context: { default_device_id: view.id },
      target: 'current',
    });
  }
}

registry.category('services').add('workshop_iot.dashboard', dashboardService);
registry.category('actions').add(DASHBOARD_ACTION_TAG, WorkshopDashboardAction);
