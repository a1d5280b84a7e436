/**
 * Claims through the ORM: `workshop.device.claim_member_search`, `action_claim_session` and
 * `action_claim_session_as_myself` (addon/workshop_iot/models/workshop_device_claim.py).
 */
import type { ClaimResult, ClaimService, MemberChoice } from './claim-service.ts';
import type { OrmService } from './odoo-services.ts';

export const MEMBER_SEARCH_LIMIT = 8;

export class OdooClaimService implements ClaimService {
  constructor(private readonly orm: OrmService) {}

  searchMembers(query: string): Promise<MemberChoice[]> {
    return this.orm.call<MemberChoice[]>('workshop.device', 'claim_member_search', [query], {
      limit: MEMBER_SEARCH_LIMIT,
    });
  }

  claim(machineId: number, memberId: number): Promise<ClaimResult> {
    return this.orm.call<ClaimResult>('workshop.device', 'action_claim_session', [
      [machineId],
      memberId,
    ]);
  }

  claimAsMyself(machineId: number): Promise<ClaimResult> {
    return this.orm.call<ClaimResult>('workshop.device', 'action_claim_session_as_myself', [
      [machineId],
    ]);
  }
}
