/**
 * Cross-field rules, declared as data so that both validators run the same checks: `validate.ts`
 * interprets them and the Python emitter turns each into code. They run only after the document passed
 * the structural schema, so every field they read exists and has the right type.
 *
 * Paths use `*` for "every item of an array".
 */
export type Rule =
  | {
      /** `<at>/<field>` must be strictly greater than `<at>/<than>`. */
      kind: 'greater_than';
      at: string;
      field: string;
      than: string;
    }
  | {
      /**
       * The values of `<key>` are unique among the items of the array at `<array>`. With `also`, the
       * key is compound: two items clash only when `<key>` AND every `also` field are equal. An
       * `also` field that an item leaves out counts as its `defaults` value (so `channel` absent and
       * `channel: 0` are the same key). The error is reported on `<key>`.
       */
      kind: 'unique';
      array: string;
      key: string;
      also?: string[];
      defaults?: Record<string, string | number>;
    }
  | {
      /** `<at>/<field>` must be present when `<at>/<when_field>` equals `<equals>`. */
      kind: 'required_when';
      at: string;
      field: string;
      when_field: string;
      equals: string;
    }
  | {
      /** `<at>/<field>` must be absent unless `<at>/<when_field>` equals `<equals>`. */
      kind: 'forbidden_unless';
      at: string;
      field: string;
      when_field: string;
      equals: string;
    }
  | {
      /** `<at>/<field>` (when present) must be >= `<at>/<than>` (when present). */
      kind: 'greater_or_equal';
      at: string;
      field: string;
      than: string;
    }
  | {
      /**
       * No `<key>` of an item of `<array>` equals an `<other_key>` of an item of `<other>` (two ids that
       * share one namespace elsewhere, e.g. a reader's id and a device's id are both an event's
       * `device_id`). The error is reported on `<key>`.
       */
      kind: 'distinct_from';
      array: string;
      key: string;
      other: string;
      other_key: string;
    }
  | {
      /** Every `<key>` of an item of `<array>` equals the `<target_key>` of some item of `<target>`. */
      kind: 'references';
      array: string;
      key: string;
      target: string;
      target_key: string;
    };

const deviceRules = (devices: string): Rule[] => [
  {
    kind: 'greater_than',
    at: `${devices}/*/session_config`,
    field: 'working_threshold_w',
    than: 'standby_threshold_w',
  },
  { kind: 'unique', array: devices, key: 'device_id' },
  // Several machines may share one meter (a Pro 4PM, a Pro 3EM) when they read different channels
  // or phases; the same (topic, channel, phase) twice would bill one load to two machines. The
  // parser is not part of the key, as in Odoo's constraint on workshop.device: one meter topic has
  // one payload family.
  {
    kind: 'unique',
    array: devices,
    key: 'topic',
    also: ['channel', 'phase'],
    defaults: { channel: 0, phase: 'total' },
  },
  {
    kind: 'required_when',
    at: `${devices}/*`,
    field: 'generic',
    when_field: 'parser_type',
    equals: 'generic_json',
  },
  {
    kind: 'forbidden_unless',
    at: `${devices}/*`,
    field: 'generic',
    when_field: 'parser_type',
    equals: 'generic_json',
  },
];

/**
 * Badge readers (issue 16): a reader's id is the `device_id` of its events, so it may clash neither
 * with another reader nor with a device; its machine must be one of the configured devices.
 */
const readerRules = (root: string): Rule[] => [
  { kind: 'unique', array: `${root}/badge_readers`, key: 'reader_id' },
  {
    kind: 'distinct_from',
    array: `${root}/badge_readers`,
    key: 'reader_id',
    other: `${root}/devices`,
    other_key: 'device_id',
  },
  {
    kind: 'references',
    array: `${root}/badge_readers`,
    key: 'machine_device_id',
    target: `${root}/devices`,
    target_key: 'device_id',
  },
];

const brokerRules = (broker: string): Rule[] => [
  { kind: 'greater_or_equal', at: broker, field: 'reconnect_max_ms', than: 'reconnect_min_ms' },
];

export const WORKER_CONFIG_RULES: Rule[] = [
  ...deviceRules('/devices'),
  ...readerRules(''),
  ...brokerRules('/broker'),
];
export const CONFIG_APPLY_RULES: Rule[] = [
  ...deviceRules('/config/devices'),
  ...readerRules('/config'),
  ...brokerRules('/config/broker'),
];
export const WORKER_SETTINGS_RULES: Rule[] = [
  ...deviceRules('/config/devices'),
  ...readerRules('/config'),
  ...brokerRules('/config/broker'),
];
