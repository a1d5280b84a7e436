/**
 * The registry of every wire contract: its name (also the Python validator's name and the JSON Schema
 * file name), its schema and its cross-field rules. Codegen and the vector tests iterate over it.
 */
import type { TSchema } from '@sinclair/typebox';
import {
  CONFIG_APPLY_RULES,
  type Rule,
  WORKER_CONFIG_RULES,
  WORKER_SETTINGS_RULES,
} from '../rules.ts';
import { AnalysisRunParams, AnalysisRunResult } from './analysis.ts';
import { DeviceTopic } from './common.ts';
import { DashboardMachineList } from './dashboard.ts';
import { DiscoveryReportParams, DiscoveryReportResult } from './discovery.ts';
import { WorkshopEvent } from './events.ts';
import {
  EventsIngestParams,
  EventsIngestResult,
  WorkerHelloParams,
  WorkerHelloResult,
  WorkerStatusParams,
  WorkerStatusResult,
} from './rpc-odoo.ts';
import {
  ConfigApplyParams,
  ConfigApplyResult,
  ConfigGetParams,
  ConfigGetResult,
  DeadLettersChangeResult,
  DeadLettersListParams,
  DeadLettersListResult,
  DeadLettersPurgeParams,
  DeadLettersRetryParams,
  Health,
  HealthGetParams,
} from './rpc-worker.ts';
import { WorkerConfig } from './worker-config.ts';
import { WorkerSettings } from './worker-settings.ts';

export interface Contract {
  schema: TSchema;
  rules: Rule[];
  description: string;
}

export const CONTRACTS = {
  worker_config: {
    schema: WorkerConfig,
    rules: WORKER_CONFIG_RULES,
    description: 'Worker configuration pushed by Odoo (config.apply) and persisted by the worker',
  },
  worker_settings: {
    schema: WorkerSettings,
    rules: WORKER_SETTINGS_RULES,
    description: 'Local settings file of one worker installation',
  },
  event: { schema: WorkshopEvent, rules: [], description: 'One event produced by the worker' },
  worker_hello_params: {
    schema: WorkerHelloParams,
    rules: [],
    description: 'worker.hello params (worker -> Odoo)',
  },
  worker_hello_result: {
    schema: WorkerHelloResult,
    rules: CONFIG_APPLY_RULES,
    description: 'worker.hello result (Odoo -> worker)',
  },
  events_ingest_params: {
    schema: EventsIngestParams,
    rules: [],
    description: 'events.ingest params; each event is then validated on its own with `event`',
  },
  events_ingest_result: {
    schema: EventsIngestResult,
    rules: [],
    description: 'events.ingest result: one item per event',
  },
  worker_status_params: {
    schema: WorkerStatusParams,
    rules: [],
    description: 'worker.status params (health and live device states)',
  },
  worker_status_result: {
    schema: WorkerStatusResult,
    rules: [],
    description: 'worker.status result',
  },
  discovery_report_params: {
    schema: DiscoveryReportParams,
    rules: [],
    description: 'discovery.report params (meters that announced themselves on the broker)',
  },
  discovery_report_result: {
    schema: DiscoveryReportResult,
    rules: [],
    description: 'discovery.report result: the reported meters an administrator ignored',
  },
  config_apply_params: {
    schema: ConfigApplyParams,
    rules: CONFIG_APPLY_RULES,
    description: 'config.apply params (Odoo -> worker)',
  },
  config_apply_result: {
    schema: ConfigApplyResult,
    rules: [],
    description: 'config.apply result: the diff that was applied',
  },
  config_get_params: { schema: ConfigGetParams, rules: [], description: 'config.get params' },
  config_get_result: {
    schema: ConfigGetResult,
    rules: WORKER_CONFIG_RULES.map((r) => prefixRule(r, '/config')),
    description: 'config.get result',
  },
  health_get_params: { schema: HealthGetParams, rules: [], description: 'health.get params' },
  deadletters_list_params: {
    schema: DeadLettersListParams,
    rules: [],
    description: 'deadletters.list params (a page of events Odoo rejected, newest first)',
  },
  deadletters_list_result: {
    schema: DeadLettersListResult,
    rules: [],
    description: 'deadletters.list result',
  },
  deadletters_retry_params: {
    schema: DeadLettersRetryParams,
    rules: [],
    description: 'deadletters.retry params: ids, or all (back to the outbox, sent again)',
  },
  deadletters_purge_params: {
    schema: DeadLettersPurgeParams,
    rules: [],
    description: 'deadletters.purge params: ids, or all (deleted)',
  },
  deadletters_change_result: {
    schema: DeadLettersChangeResult,
    rules: [],
    description: 'deadletters.retry / deadletters.purge result',
  },
  analysis_run_params: {
    schema: AnalysisRunParams,
    rules: [],
    description:
      'analysis.run params: a machine, a range of its recorded readings, optional candidate settings',
  },
  analysis_run_result: {
    schema: AnalysisRunResult,
    rules: [],
    description:
      'analysis.run result: histogram, clusters, proposed settings, current vs proposed replayed sessions',
  },
  dashboard_machines: {
    schema: DashboardMachineList,
    rules: [],
    description: 'Machines shown by the live dashboard (Odoo and worker)',
  },
  device_topic: {
    schema: DeviceTopic,
    rules: [],
    description:
      "One device's MQTT topic (the rule DeviceConfig.topic uses; Odoo's device form checks it)",
  },
  health: {
    schema: Health,
    rules: [],
    description: 'health.get result and the body of GET /health',
  },
} satisfies Record<string, Contract>;

export type ContractName = keyof typeof CONTRACTS;
export const CONTRACT_NAMES = Object.keys(CONTRACTS) as ContractName[];

function prefixRule(rule: Rule, prefix: string): Rule {
  if (rule.kind === 'unique') return { ...rule, array: prefix + rule.array };
  if (rule.kind === 'distinct_from')
    return { ...rule, array: prefix + rule.array, other: prefix + rule.other };
  if (rule.kind === 'references')
    return { ...rule, array: prefix + rule.array, target: prefix + rule.target };
  return { ...rule, at: prefix + rule.at };
}
