/**
 * The control API's methods (Odoo -> worker): `config.apply`, `config.get`, `health.get`.
 * Params are validated with the shared contracts; field errors go back in `error.data.errors` with
 * JSON-pointer paths relative to `params` (e.g. `/config/devices/0/topic`).
 */
import {
  type ConfigApplyParams,
  type ConfigApplyResult,
  type ConfigGetResult,
  type ContractName,
  type Health,
  validate,
} from '@workshop-iot/shared';
import { WorkerError } from '../errors.ts';
import type { RpcDispatcher } from './rpc.ts';

export interface ControlApi {
  applyConfig(config: unknown): Promise<ConfigApplyResult>;
  getConfig(): ConfigGetResult;
  health(): Health;
}

export function registerControlMethods(rpc: RpcDispatcher, api: ControlApi): void {
  rpc.add('config.apply', {
    scope: 'admin',
    handler: (params) => {
      const p = checkParams('config_apply_params', params, 'CONFIG_INVALID') as ConfigApplyParams;
      return api.applyConfig(p.config);
    },
  });
  rpc.add('config.get', {
    scope: 'admin',
    handler: (params) => {
      checkParams('config_get_params', params ?? {}, 'INVALID_PARAMS');
      return api.getConfig();
    },
  });
  rpc.add('health.get', {
    scope: 'read',
    handler: (params) => {
      checkParams('health_get_params', params ?? {}, 'INVALID_PARAMS');
      return api.health();
    },
  });
}

function checkParams(
  contract: ContractName,
  params: unknown,
  code: 'INVALID_PARAMS' | 'CONFIG_INVALID',
): unknown {
  const errors = validate(contract, params);
  if (errors.length > 0)
    throw new WorkerError(code, { count: errors.length }, { errors: errors.slice(0, 100) });
  return params;
}
