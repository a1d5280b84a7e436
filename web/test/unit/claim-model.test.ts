import { describe, expect, it, vi } from 'vitest';
import type { ClaimResult, ClaimService, MemberChoice } from '../../src/data/claim-service.ts';
import type { DashboardMachine } from '../../src/data/machine.ts';
import { OdooClaimService } from '../../src/data/odoo-claim-service.ts';
import type { OrmService } from '../../src/data/odoo-services.ts';
import { ClaimModel, errorMessage } from '../../src/model/claim-model.ts';
import { DashboardModel, machineView } from '../../src/model/dashboard-model.ts';
import { machine, T0 } from '../helpers/machines.ts';

const ADA: MemberChoice = { id: 7, name: 'Ada Lovelace' };
const LATHE = { id: 1, name: 'Lathe' };

/** A promise the test settles by hand, to order answers as the network might. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function result(member: MemberChoice, overrides: Partial<DashboardMachine> = {}): ClaimResult {
  return { machine: machine({ member_name: member.name, ...overrides }), member };
}

function service(overrides: Partial<ClaimService> = {}): ClaimService {
  return {
    searchMembers: vi.fn(async () => [ADA]),
    claim: vi.fn(async () => result(ADA)),
    claimAsMyself: vi.fn(async () => result({ id: 3, name: 'Kiosk User' })),
    ...overrides,
  };
}

describe('ClaimModel', () => {
  it('searches members and claims the open machine for the chosen one', async () => {
    const claims = service();
    const claimed: DashboardMachine[] = [];
    const model = new ClaimModel(claims, (m) => claimed.push(m));
    model.open(LATHE);
    await model.search('ada');
    expect(model.results).toEqual([ADA]);
    expect(model.searched).toBe('ada');
    await model.choose(ADA);
    expect(claims.claim).toHaveBeenCalledWith(1, 7);
    expect(model.status).toBe('done');
    expect(model.message).toBe('Ada Lovelace');
    expect(claimed.map((m) => m.member_name)).toEqual(['Ada Lovelace']);
  });

  it('drops a search answer that arrives after a newer query', async () => {
    const slow = deferred<MemberChoice[]>();
    const fast = deferred<MemberChoice[]>();
    const answers = [slow.promise, fast.promise];
    const model = new ClaimModel(
      service({ searchMembers: vi.fn(() => answers.shift()!) }),
      () => {},
    );
    model.open(LATHE);
    const first = model.search('a');
    const second = model.search('ada');
    fast.resolve([ADA]);
    await second;
    slow.resolve([{ id: 9, name: 'Alan Turing' }]);
    await first;
    expect(model.results).toEqual([ADA]);
    expect(model.searched).toBe('ada');
  });

  it('shows the server message when a claim is refused, and applies nothing', async () => {
    // Odoo's RPCError: the UserError text is in data.message.
    const refusal = Object.assign(new Error('Odoo Server Error'), {
      data: { message: "Lathe 2026-11-25 10:00 was checked in with Grace Hopper's badge" },
    });
    const onClaimed = vi.fn();
    const model = new ClaimModel(
      service({ claim: vi.fn(async () => Promise.reject(refusal)) }),
      onClaimed,
    );
    model.open(LATHE);
    await model.choose(ADA);
    expect(model.status).toBe('error');
    expect(model.message).toContain("Grace Hopper's badge");
    expect(onClaimed).not.toHaveBeenCalled();
  });

  it('claims for the logged-in user in one step (self-service kiosk)', async () => {
    const claims = service();
    const model = new ClaimModel(claims, () => {});
    await model.claimAsMyself(LATHE);
    expect(claims.claimAsMyself).toHaveBeenCalledWith(1);
    expect(model.target).toEqual(LATHE);
    expect(model.message).toBe('Kiosk User');
    expect(model.status).toBe('done');
  });

  it('an empty query clears the list without asking the server', async () => {
    const claims = service();
    const model = new ClaimModel(claims, () => {});
    model.open(LATHE);
    await model.search('   ');
    expect(claims.searchMembers).not.toHaveBeenCalled();
    expect(model.results).toEqual([]);
  });

  it('errorMessage reads Odoo RPC errors, plain errors and anything else', () => {
    expect(errorMessage({ data: { message: 'from server' }, message: 'generic' })).toBe(
      'from server',
    );
    expect(errorMessage(new Error('plain'))).toBe('plain');
    expect(errorMessage('text')).toBe('text');
  });
});

describe('member on the tile', () => {
  it('comes from member_name, null when the sender has none (the worker page)', () => {
    const model = new DashboardModel(T0);
    model.applyUpdate(machine({ member_name: 'Ada Lovelace' }), T0);
    expect(machineView(model.entries['shelly-lathe']!, T0).memberName).toBe('Ada Lovelace');
    model.applyUpdate(machine({ device_id: 'worker-saw' }), T0);
    expect(machineView(model.entries['worker-saw']!, T0).memberName).toBeNull();
  });
});

describe('OdooClaimService', () => {
  it('calls the workshop.device claim methods with the machine id', async () => {
    const call = vi.fn(async () => []) as unknown as OrmService['call'];
    const claims = new OdooClaimService({ call });
    await claims.searchMembers('ada');
    await claims.claim(4, 7);
    await claims.claimAsMyself(4);
    expect(call).toHaveBeenNthCalledWith(1, 'workshop.device', 'claim_member_search', ['ada'], {
      limit: 8,
    });
    expect(call).toHaveBeenNthCalledWith(2, 'workshop.device', 'action_claim_session', [[4], 7]);
    expect(call).toHaveBeenNthCalledWith(3, 'workshop.device', 'action_claim_session_as_myself', [
      [4],
    ]);
  });
});

describe('alert banner on the tile (issue 17)', () => {
  it('comes from alert, null when none is open or the sender has none (the worker page)', () => {
    const model = new DashboardModel(T0);
    model.applyUpdate(machine({ alert: 'Offline during a session' }), T0);
    expect(machineView(model.entries['shelly-lathe']!, T0).alert).toBe('Offline during a session');
    model.applyUpdate(machine({ alert: null }), T0);
    expect(machineView(model.entries['shelly-lathe']!, T0).alert).toBeNull();
    model.applyUpdate(machine({ device_id: 'worker-saw' }), T0);
    expect(machineView(model.entries['worker-saw']!, T0).alert).toBeNull();
  });
});
