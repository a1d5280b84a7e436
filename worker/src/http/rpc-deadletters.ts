/**
 * The control API's dead-letter methods (admin token only): events Odoo rejected sit in the outbox's
 * dead-letter table until an operator lists them, sends them again after fixing the cause (e.g. a
 * device Odoo did not know yet), or deletes them.
 *
 * - `deadletters.list` {limit?, before_id?}: newest first, with Odoo's code and message.
 * - `deadletters.retry` {ids} | {all: true}: back to the outbox as pending (the sender wakes).
 * - `deadletters.purge` {ids} | {all: true}: deleted.
 * Listed ids that are not dead letters fail the whole call with DEAD_LETTER_NOT_FOUND naming them.
 */
import {
  type ContractName,
  type DeadLettersChangeResult,
  type DeadLettersListParams,
  type DeadLettersListResult,
  type DeadLettersPurgeParams,
  validate,
} from '@workshop-iot/shared';
import { WorkerError } from '../errors.ts';
import type { Outbox } from '../outbox/outbox.ts';
import type { RpcDispatcher } from './rpc.ts';

export type DeadLetterStore = Pick<
  Outbox,
  | 'deadLetterPage'
  | 'unknownDeadLetters'
  | 'requeueDeadLetters'
  | 'purgeDeadLetters'
  | 'deadLetterCount'
>;

const DEFAULT_PAGE = 50;

export function registerDeadLetterMethods(
  rpc: RpcDispatcher,
  store: DeadLetterStore,
  onRequeued: () => void,
): void {
  rpc.add('deadletters.list', {
    scope: 'admin',
    handler: (params): DeadLettersListResult => {
      const p = checked<DeadLettersListParams>('deadletters_list_params', params ?? {});
      const limit = p.limit ?? DEFAULT_PAGE;
      const { rows, total } = store.deadLetterPage(limit + 1, p.before_id ?? null);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({
          id: r.id,
          event_uid: r.event_uid,
          device_id: r.device_id,
          type: r.type,
          code: r.code,
          message: r.message,
          rejected_at: r.at,
        })),
        total,
        next_before_id: rows.length > limit && last ? last.id : null,
      };
    },
  });
  rpc.add('deadletters.retry', {
    scope: 'admin',
    handler: (params): DeadLettersChangeResult => {
      const ids = selection('deadletters_retry_params', params, store);
      const count = store.requeueDeadLetters(ids);
      if (count > 0) onRequeued();
      return { count, remaining: store.deadLetterCount() };
    },
  });
  rpc.add('deadletters.purge', {
    scope: 'admin',
    handler: (params): DeadLettersChangeResult => {
      const ids = selection('deadletters_purge_params', params, store);
      const count = store.purgeDeadLetters(ids);
      return { count, remaining: store.deadLetterCount() };
    },
  });
}

/** The ids to act on, or null for all; every listed id must exist. */
function selection(
  contract: ContractName,
  params: unknown,
  store: DeadLetterStore,
): number[] | null {
  const p = checked<DeadLettersPurgeParams>(contract, params ?? {});
  if ((p.ids === undefined) === (p.all === undefined)) {
    const errors = [{ path: '', message: 'must have exactly one of ids or all' }];
    throw new WorkerError('INVALID_PARAMS', { count: 1 }, { errors });
  }
  if (p.all) return null;
  const ids = [...new Set(p.ids)];
  const unknown = store.unknownDeadLetters(ids);
  if (unknown.length > 0)
    throw new WorkerError(
      'DEAD_LETTER_NOT_FOUND',
      { ids: unknown.join(', ') },
      { unknown_ids: unknown },
    );
  return ids;
}

function checked<T>(contract: ContractName, params: unknown): T {
  const errors = validate(contract, params);
  if (errors.length > 0)
    throw new WorkerError(
      'INVALID_PARAMS',
      { count: errors.length },
      { errors: errors.slice(0, 100) },
    );
  return params as T;
}
