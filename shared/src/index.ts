/** Public API of the schema package: contracts, their static types and the validator. */
export * from './contracts/analysis.ts';
export * from './contracts/common.ts';
export * from './contracts/dashboard.ts';
export * from './contracts/discovery.ts';
export * from './contracts/events.ts';
export { CONTRACT_NAMES, CONTRACTS, type Contract, type ContractName } from './contracts/index.ts';
export * from './contracts/rpc-odoo.ts';
export * from './contracts/rpc-worker.ts';
export * from './contracts/worker-config.ts';
export * from './contracts/worker-settings.ts';
export type { Rule } from './rules.ts';
export { type FieldError, validate, validateSchema } from './validate.ts';
