/**
 * The claim panel's state as a plain class (no OWL import; the component wraps it in `useState`):
 * which machine is being claimed, the member search, and the outcome. Search answers that arrive
 * after a newer query was typed are dropped, so the list always matches the text in the box.
 */
import type { ClaimResult, ClaimService, MemberChoice } from '../data/claim-service.ts';
import type { DashboardMachine } from '../data/machine.ts';

export type ClaimStatus = 'idle' | 'searching' | 'claiming' | 'done' | 'error';

export interface ClaimTarget {
  id: number;
  name: string;
}

/** The message of a failed call: Odoo's `RPCError` carries the server's text in `data.message`. */
export function errorMessage(error: unknown): string {
  if (error && typeof error === 'object') {
    const data = (error as { data?: { message?: unknown } }).data;
    if (data && typeof data.message === 'string' && data.message) return data.message;
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string' && message) return message;
  }
  return String(error);
}

export class ClaimModel {
  target: ClaimTarget | null = null;
  query = '';
  results: MemberChoice[] = [];
  status: ClaimStatus = 'idle';
  /** Who the session went to (status `done`) or what went wrong (status `error`). */
  message = '';
  /** The query whose answer `results` shows (`searched === query` once it arrived). */
  searched = '';
  private searchSeq = 0;

  /** `onClaimed` receives the machine's tile dict after a successful claim (apply it to the tiles). */
  constructor(
    private readonly service: ClaimService,
    private readonly onClaimed: (machine: DashboardMachine) => void,
  ) {}

  open(target: ClaimTarget): void {
    this.target = target;
    this.query = '';
    this.searched = '';
    this.results = [];
    this.status = 'idle';
    this.message = '';
    this.searchSeq++;
  }

  close(): void {
    this.target = null;
    this.results = [];
    this.searchSeq++;
  }

  async search(query: string): Promise<void> {
    this.query = query;
    const seq = ++this.searchSeq;
    if (!query.trim()) {
      this.results = [];
      this.searched = query;
      this.status = 'idle';
      return;
    }
    this.status = 'searching';
    try {
      const results = await this.service.searchMembers(query);
      if (seq !== this.searchSeq) return; // a newer query was typed meanwhile
      this.results = results;
      this.searched = query;
      this.status = 'idle';
    } catch (error) {
      if (seq !== this.searchSeq) return;
      this.fail(error);
    }
  }

  /** Claim the open machine's session for `member`. */
  async choose(member: MemberChoice): Promise<void> {
    const target = this.target;
    if (!target) return;
    await this.run(() => this.service.claim(target.id, member.id));
  }

  /** Self-service: open the panel on `target` and claim its session for the logged-in user. */
  async claimAsMyself(target: ClaimTarget): Promise<void> {
    this.open(target);
    await this.run(() => this.service.claimAsMyself(target.id));
  }

  private async run(call: () => Promise<ClaimResult>): Promise<void> {
    this.status = 'claiming';
    this.message = '';
    this.searchSeq++; // a search answer arriving now must not reopen the list
    try {
      const { machine, member } = await call();
      this.onClaimed(machine);
      this.status = 'done';
      this.message = member.name;
      this.results = [];
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    this.status = 'error';
    this.message = errorMessage(error);
  }
}
