/**
 * What the claim panel needs from a backend: find members and assign a machine's running (or last)
 * session to one of them. Odoo only (`OdooClaimService`); the worker's page has no members, so it
 * passes none and its tiles show no claim button. The server picks the session and checks the
 * rights; card ids are matched on the server and never come back (only ids and names do).
 */
import type { DashboardMachine } from './machine.ts';

export interface MemberChoice {
  id: number;
  name: string;
}

/** What a claim answers: the machine's new tile dict and who the session went to. */
export interface ClaimResult {
  machine: DashboardMachine;
  member: MemberChoice;
}

export interface ClaimService {
  /** Members whose name contains `query`, or who hold the card `query`. */
  searchMembers(query: string): Promise<MemberChoice[]>;
  /** Assign the machine's running or last session to `memberId`; resolves with the outcome. */
  claim(machineId: number, memberId: number): Promise<ClaimResult>;
  /** Same, for the logged-in user (self-service kiosk). */
  claimAsMyself(machineId: number): Promise<ClaimResult>;
}
