/**
 * One machine: name, state (colour + icon + text, never colour alone), current power, the running
 * session's timer, today's working and standby time, and when the meter was last heard from.
 * With `onOpen`, the whole tile is one button that opens the machine's sessions. With `onClaim`
 * (Odoo, machines with an id), a "Claim" button above it assigns the machine's session to a member;
 * the member on the machine shows when the sender knows one, and a banner the machine's open alerts
 * (Odoo's text, already in the user's language).
 */
import { Component, xml } from '@odoo/owl';
import type { MachineView } from '../model/dashboard-model.ts';
import {
  formatClockTime,
  formatDuration,
  formatPower,
  formatRelative,
  shownParts,
} from '../model/format.ts';
import type { DashboardLabels } from '../model/labels.ts';
import { StateIcon } from './state_icon.ts';

export interface MachineTileProps {
  view: MachineView;
  nowMs: number;
  labels: DashboardLabels;
  locale?: string;
  onOpen?: (view: MachineView) => void;
  onClaim?: (view: MachineView) => void;
  /** Self-service kiosk: the claim button says "This is me". */
  claimAsMyself?: boolean;
}

export class MachineTile extends Component<MachineTileProps> {
  static components = { StateIcon };
  static override props = {
    view: Object,
    nowMs: Number,
    labels: Object,
    locale: { type: String, optional: true },
    onOpen: { type: Function, optional: true },
    onClaim: { type: Function, optional: true },
    claimAsMyself: { type: Boolean, optional: true },
  };
  static override template = xml`
    <article t-attf-class="o_workshop_iot_tile o_workshop_iot_state_{{props.view.state}} {{props.view.silent ? 'o_workshop_iot_tile_silent' : ''}}"
             t-att-data-device-id="props.view.key" t-att-data-state="props.view.state"
             t-att-data-silent="props.view.silent ? 'true' : 'false'"
             t-att-aria-label="props.view.name + ': ' + stateLabel">
      <div class="o_workshop_iot_tile_header">
        <h4 class="o_workshop_iot_tile_name">
          <button t-if="props.onOpen" type="button" class="o_workshop_iot_tile_open"
                  t-att-title="openLabel" t-att-aria-label="openLabel" t-on-click="open">
            <t t-esc="props.view.name"/>
          </button>
          <t t-else="" t-esc="props.view.name"/>
        </h4>
        <p class="o_workshop_iot_state_badge">
          <StateIcon name="props.view.state"/>
          <span class="o_workshop_iot_state_text" t-esc="stateLabel"/>
        </p>
      </div>
      <p t-if="props.view.alert" class="o_workshop_iot_alert" role="alert">
        <span class="o_workshop_iot_alert_icon" aria-hidden="true">⚠</span>
        <t t-out="' '"/>
        <span class="o_workshop_iot_alert_text" t-esc="props.view.alert"/>
      </p>
      <dl class="o_workshop_iot_facts">
        <div class="o_workshop_iot_fact o_workshop_iot_fact_power">
          <dt t-esc="props.labels.power"/>
          <dd class="o_workshop_iot_power" t-esc="power"/>
        </div>
        <div class="o_workshop_iot_fact o_workshop_iot_fact_session">
          <dt t-esc="props.labels.session"/>
          <dd class="o_workshop_iot_session" t-att-data-seconds="sessionSeconds">
            <t t-if="props.view.sessionS !== null" t-esc="session"/>
            <span t-else="" class="o_workshop_iot_muted" t-esc="props.labels.noSession"/>
          </dd>
        </div>
        <div class="o_workshop_iot_fact">
          <dt t-esc="props.labels.todayWorking"/>
          <dd class="o_workshop_iot_today_working" t-esc="todayWorking"/>
        </div>
        <div class="o_workshop_iot_fact">
          <dt t-esc="props.labels.todayStandby"/>
          <dd class="o_workshop_iot_today_standby" t-esc="todayStandby"/>
        </div>
      </dl>
      <p t-if="props.view.memberName" class="o_workshop_iot_member">
        <span t-esc="props.labels.onMachine"/>
        <t t-out="' '"/>
        <strong class="o_workshop_iot_member_name" t-esc="props.view.memberName"/>
      </p>
      <p t-if="props.view.silent" class="o_workshop_iot_silent" role="status">
        <span t-esc="props.labels.noDataSince"/>
        <t t-out="' '"/>
        <time class="o_workshop_iot_silent_since" t-att-datetime="props.view.lastSeenAt"
              t-esc="silentSince"/>
      </p>
      <p class="o_workshop_iot_seen">
        <span t-esc="props.labels.lastSeen"/>
        <time class="o_workshop_iot_last_seen" t-att-datetime="props.view.lastSeenAt" t-esc="lastSeen"/>
      </p>
      <button t-if="canClaim" type="button" class="btn btn-secondary o_workshop_iot_claim"
              t-att-aria-label="claimLabel + ': ' + props.view.name" t-on-click="claim">
        <t t-esc="claimLabel"/>
      </button>
    </article>`;

  get canClaim(): boolean {
    return Boolean(this.props.onClaim) && this.props.view.id !== null;
  }

  get claimLabel(): string {
    return this.props.claimAsMyself ? this.props.labels.claimAsMyself : this.props.labels.claim;
  }

  claim(): void {
    this.props.onClaim?.(this.props.view);
  }

  get stateLabel(): string {
    return this.props.labels.states[this.props.view.state] ?? this.props.view.state;
  }

  get openLabel(): string {
    return `${this.props.labels.openSessions} ${this.props.view.name}`;
  }

  get power(): string {
    return formatPower(this.props.view.powerW, this.props.locale);
  }

  get sessionSeconds(): string {
    const s = this.props.view.sessionS;
    return s === null ? '' : String(Math.floor(s));
  }

  get session(): string {
    return formatDuration(this.props.view.sessionS ?? 0);
  }

  get todayWorking(): string {
    const { todayWorkingS, todayStandbyS } = this.props.view;
    return formatDuration(shownParts(todayWorkingS, todayStandbyS).working);
  }

  get todayStandby(): string {
    const { todayWorkingS, todayStandbyS } = this.props.view;
    return formatDuration(shownParts(todayWorkingS, todayStandbyS).standby);
  }

  get lastSeen(): string {
    const { lastSeenAt } = this.props.view;
    return formatRelative(lastSeenAt, this.props.nowMs, this.props.labels.never, this.props.locale);
  }

  /** When the silent meter last spoke: `14:05`, with the date when not today. */
  get silentSince(): string {
    return formatClockTime(this.props.view.lastSeenAt, this.props.nowMs, this.props.locale);
  }

  open(): void {
    this.props.onOpen?.(this.props.view);
  }
}
