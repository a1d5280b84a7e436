/**
 * The live machine dashboard: toolbar (connection status, state filter, grouping, kiosk toggle)
 * and one tile per machine, grouped by area. Knows nothing about Odoo or the worker: data comes
 * from the `dataSource` prop, opening a machine goes through `onOpenMachine`, claiming a machine's
 * session through the optional `claims` service (Odoo only: the worker's page has no members).
 */
import { Component, onMounted, onWillUnmount, useState, xml } from '@odoo/owl';
import type { ClaimService } from '../data/claim-service.ts';
import type { DataSource } from '../data/data-source.ts';
import { ClaimModel } from '../model/claim-model.ts';
import type { Clock } from '../model/clock.ts';
import { systemClock } from '../model/clock.ts';
import {
  type AreaGroup,
  DashboardModel,
  type MachineView,
  type StateFilter,
} from '../model/dashboard-model.ts';
import { DashboardSync } from '../model/dashboard-sync.ts';
import { type DashboardLabels, DEFAULT_LABELS } from '../model/labels.ts';
import { ClaimPanel } from './claim_panel.ts';
import { MachineTile } from './machine_tile.ts';
import { StateIcon } from './state_icon.ts';

export interface DashboardProps {
  dataSource: DataSource;
  labels?: DashboardLabels;
  locale?: string;
  kiosk?: boolean;
  onOpenMachine?: (view: MachineView) => void;
  /** Where the viewer may create machines: opens a new machine (the empty state's button). */
  onAddMachine?: () => void;
  clock?: Clock;
  /** Extra root classes (Odoo's action container passes `o_action`). */
  className?: string;
  /** Members to claim a machine's session for; without it the tiles have no claim button. */
  claims?: ClaimService;
  /** Self-service kiosk: "This is me" claims the session for the logged-in user at once. */
  claimAsMyself?: boolean;
}

export class Dashboard extends Component<DashboardProps> {
  static components = { ClaimPanel, MachineTile, StateIcon };
  static override props = {
    dataSource: Object,
    labels: { type: Object, optional: true },
    locale: { type: String, optional: true },
    kiosk: { type: Boolean, optional: true },
    onOpenMachine: { type: Function, optional: true },
    onAddMachine: { type: Function, optional: true },
    clock: { type: Object, optional: true },
    className: { type: String, optional: true },
    claims: { type: Object, optional: true },
    claimAsMyself: { type: Boolean, optional: true },
  };
  static override template = xml`
    <div t-attf-class="o_workshop_iot_dashboard {{props.className or ''}} {{model.kiosk ? 'o_workshop_iot_kiosk' : ''}}"
         t-att-data-status="model.status" t-on-keydown="onKeydown">
      <div class="o_workshop_iot_toolbar">
        <h2 class="o_workshop_iot_title" t-esc="labels.title"/>
        <p class="o_workshop_iot_connection" role="status"
           t-att-data-online="model.online ? 'true' : 'false'">
          <span class="o_workshop_iot_connection_dot" aria-hidden="true"/>
          <span t-esc="model.online ? labels.online : labels.offline"/>
        </p>
        <div class="o_workshop_iot_filters" role="group" t-att-aria-label="labels.filterByState">
          <t t-foreach="model.filterOptions()" t-as="option" t-key="option">
            <button type="button"
                    t-attf-class="o_workshop_iot_filter o_workshop_iot_filter_{{option}}"
                    t-att-data-filter="option"
                    t-att-aria-pressed="model.filter === option ? 'true' : 'false'"
                    t-on-click="() => this.setFilter(option)">
              <StateIcon name="option"/>
              <span t-esc="filterLabel(option)"/>
              <span class="o_workshop_iot_count" t-esc="count(option)"/>
            </button>
          </t>
        </div>
        <label t-if="model.hasAreas()" class="o_workshop_iot_group_toggle">
          <input type="checkbox" t-att-checked="model.groupByArea" t-on-change="toggleGroupByArea"/>
          <span t-esc="labels.groupByArea"/>
        </label>
        <button type="button" class="o_workshop_iot_kiosk_toggle"
                t-att-aria-pressed="model.kiosk ? 'true' : 'false'" t-on-click="toggleKiosk">
          <StateIcon name="model.kiosk ? 'collapse' : 'expand'"/>
          <span t-esc="model.kiosk ? labels.exitKiosk : labels.kiosk"/>
        </button>
      </div>
      <div class="o_workshop_iot_body">
        <p t-if="model.status === 'loading'" class="o_workshop_iot_message" t-esc="labels.loading"/>
        <p t-elif="model.status === 'error'" class="o_workshop_iot_message o_workshop_iot_error"
           role="alert" t-esc="labels.loadFailed"/>
        <t t-else="">
          <t t-set="groups" t-value="model.groups()"/>
          <t t-set="empty" t-value="model.emptyState()"/>
          <section t-if="empty === 'no-machines'" class="o_workshop_iot_empty"
                   data-empty="no-machines" t-att-aria-label="labels.noMachinesYet">
            <h3 class="o_workshop_iot_empty_title" t-esc="labels.noMachinesYet"/>
            <p class="o_workshop_iot_empty_help" t-esc="labels.firstMachineHelp"/>
            <button t-if="props.onAddMachine" type="button"
                    class="btn btn-primary o_workshop_iot_add_machine"
                    t-on-click="() => props.onAddMachine()" t-esc="labels.addMachine"/>
          </section>
          <p t-elif="empty === 'no-match'" class="o_workshop_iot_message"
             data-empty="no-match" t-esc="labels.noMachinesMatch"/>
          <section t-foreach="groups" t-as="group" t-key="group.key" class="o_workshop_iot_area"
                   t-att-aria-label="areaLabel(group)">
            <h3 t-if="showAreaTitles" class="o_workshop_iot_area_title">
              <t t-esc="areaLabel(group)"/>
              <span class="o_workshop_iot_count" t-esc="group.machines.length"/>
            </h3>
            <div class="o_workshop_iot_grid">
              <t t-foreach="group.machines" t-as="view" t-key="view.key">
                <MachineTile view="view" nowMs="model.nowMs" labels="labels" locale="props.locale"
                             onOpen="props.onOpenMachine" onClaim="claim ? onClaim : undefined"
                             claimAsMyself="asMyself"/>
              </t>
            </div>
          </section>
        </t>
      </div>
      <ClaimPanel t-if="claim and claim.target" claim="claim" labels="labels"
                  asMyself="asMyself"/>
    </div>`;

  model!: DashboardModel;
  /** The claim panel's state; null without a `claims` service. */
  claim: ClaimModel | null = null;
  private sync!: DashboardSync;

  override setup(): void {
    const clock = this.props.clock ?? systemClock;
    const model = new DashboardModel(clock.now());
    model.kiosk = this.props.kiosk ?? false;
    this.model = useState(model);
    // The sync writes through the reactive proxy so every change re-renders.
    this.sync = new DashboardSync(this.props.dataSource, this.model, clock);
    if (this.props.claims) {
      // The claim's answer is the machine's new tile dict: shown at once, before (or without) the bus.
      const claimed = new ClaimModel(this.props.claims, (machine) =>
        this.model.applyUpdate(machine, clock.now()),
      );
      this.claim = useState(claimed);
    }
    const onFullscreenChange = () => {
      if (!document.fullscreenElement && this.model.kiosk) this.model.setKiosk(false);
    };
    onMounted(() => {
      document.addEventListener('fullscreenchange', onFullscreenChange);
      void this.sync.start();
    });
    onWillUnmount(() => {
      document.removeEventListener('fullscreenchange', onFullscreenChange);
      this.sync.stop();
    });
  }

  readonly onClaim = (view: MachineView): void => {
    if (!this.claim || view.id === null) return;
    const target = { id: view.id, name: view.name };
    if (this.props.claimAsMyself) void this.claim.claimAsMyself(target);
    else this.claim.open(target);
  };

  /** Self-service kiosk (templates have no `Boolean`: OWL evaluates them against the component). */
  get asMyself(): boolean {
    return Boolean(this.props.claimAsMyself);
  }

  get labels(): DashboardLabels {
    return this.props.labels ?? DEFAULT_LABELS;
  }

  get showAreaTitles(): boolean {
    return this.model.groupByArea && this.model.hasAreas();
  }

  filterLabel(option: StateFilter): string {
    return option === 'all' ? this.labels.all : this.labels.states[option];
  }

  count(option: StateFilter): number {
    if (option === 'all') return Object.keys(this.model.entries).length;
    return this.model.counts()[option];
  }

  areaLabel(group: AreaGroup): string {
    if (!this.showAreaTitles) return this.labels.title;
    return group.area ?? this.labels.noArea;
  }

  setFilter(option: StateFilter): void {
    this.model.setFilter(this.model.filter === option && option !== 'all' ? 'all' : option);
  }

  toggleGroupByArea(ev: Event): void {
    this.model.setGroupByArea((ev.target as HTMLInputElement).checked);
  }

  /** Kiosk = large tiles over the whole window; also real full screen where the browser allows. */
  toggleKiosk(): void {
    const kiosk = !this.model.kiosk;
    this.model.setKiosk(kiosk);
    if (kiosk) {
      document.documentElement.requestFullscreen?.().catch(() => {
        // Refused (no user gesture, iframe, iOS): the kiosk layout still covers the window.
      });
    } else if (document.fullscreenElement) {
      void document.exitFullscreen();
    }
  }

  onKeydown(ev: KeyboardEvent): void {
    if (ev.key === 'Escape' && this.model.kiosk) this.toggleKiosk();
  }
}
