/**
 * The claim dialog of one machine: a search box (name or card), the members found, and the outcome
 * of the claim. Renders a `ClaimModel` (state and calls live there); Escape or "Close" closes it.
 */
import { Component, onMounted, useRef, xml } from '@odoo/owl';
import type { MemberChoice } from '../data/claim-service.ts';
import type { ClaimModel } from '../model/claim-model.ts';
import type { DashboardLabels } from '../model/labels.ts';

export interface ClaimPanelProps {
  claim: ClaimModel;
  labels: DashboardLabels;
  /** Self-service: no search, the claim for the logged-in user is already under way. */
  asMyself?: boolean;
}

export class ClaimPanel extends Component<ClaimPanelProps> {
  static override props = {
    claim: Object,
    labels: Object,
    asMyself: { type: Boolean, optional: true },
  };
  static override template = xml`
    <div class="o_workshop_iot_claim_backdrop" t-on-click.self="close" t-on-keydown="onKeydown">
      <section class="o_workshop_iot_claim_panel" role="dialog" aria-modal="true"
               t-att-aria-label="title" t-att-data-status="props.claim.status">
        <h3 t-esc="title"/>
        <t t-if="!props.asMyself and props.claim.status !== 'done'">
          <input t-ref="search" type="search" class="form-control o_workshop_iot_claim_search"
                 autocomplete="off" t-att-placeholder="props.labels.searchMember"
                 t-att-aria-label="props.labels.searchMember" t-att-value="props.claim.query"
                 t-on-input="onInput"/>
          <ul class="o_workshop_iot_claim_results">
            <li t-foreach="props.claim.results" t-as="member" t-key="member.id">
              <button type="button" class="btn btn-light o_workshop_iot_claim_member"
                      t-att-data-member-id="member.id" t-att-disabled="props.claim.status === 'claiming'"
                      t-on-click="() => this.choose(member)" t-esc="member.name"/>
            </li>
          </ul>
          <p t-if="noneFound" class="o_workshop_iot_muted o_workshop_iot_claim_none" t-esc="props.labels.noMemberFound"/>
        </t>
        <p class="o_workshop_iot_claim_outcome" role="status" t-att-data-status="props.claim.status">
          <t t-if="props.claim.status === 'claiming'" t-esc="props.labels.claiming"/>
          <t t-elif="props.claim.status === 'done'">
            <t t-esc="props.labels.claimedFor"/>
            <t t-out="' '"/>
            <strong class="o_workshop_iot_claimed_member" t-esc="props.claim.message"/>
          </t>
          <t t-elif="props.claim.status === 'error'" t-esc="props.claim.message"/>
        </p>
        <button type="button" class="btn btn-secondary o_workshop_iot_claim_close" t-on-click="close"
                t-esc="props.labels.close"/>
      </section>
    </div>`;

  private searchRef = useRef('search');

  override setup(): void {
    onMounted(() => (this.searchRef.el as HTMLInputElement | null)?.focus());
  }

  get title(): string {
    return `${this.props.labels.claimTitle} ${this.props.claim.target?.name ?? ''}?`;
  }

  /** The answer for the text in the box came back empty. */
  get noneFound(): boolean {
    const { claim } = this.props;
    return (
      claim.status === 'idle' &&
      claim.query.trim() !== '' &&
      claim.searched === claim.query &&
      !claim.results.length
    );
  }

  onInput(ev: Event): void {
    void this.props.claim.search((ev.target as HTMLInputElement).value);
  }

  choose(member: MemberChoice): void {
    void this.props.claim.choose(member);
  }

  close(): void {
    this.props.claim.close();
  }

  onKeydown(ev: KeyboardEvent): void {
    if (ev.key === 'Escape') {
      ev.stopPropagation(); // closes the dialog, not the kiosk mode behind it
      this.close();
    }
  }
}
