/** Device configs for MQTT tests: one call per device, every field a test does not care about defaulted. */
import type {
  BadgeReaderConfig,
  DeviceConfig,
  GenericJsonSettings,
  ParserType,
} from '@workshop-iot/shared';

export function device(
  device_id: string,
  parser_type: ParserType,
  topic = device_id,
  generic?: GenericJsonSettings,
): DeviceConfig {
  return {
    device_id,
    name: `Machine ${device_id}`,
    parser_type,
    topic,
    ...(generic ? { generic } : {}),
    session_config: {
      standby_threshold_w: 10,
      working_threshold_w: 100,
      start_debounce_s: 10,
      stop_debounce_s: 30,
      message_timeout_s: 360,
      heartbeat_interval_s: 300,
    },
  };
}

export const buf = (value: string | object): Buffer =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

/** A badge reader config for MQTT tests (issue 16), paired with `machine`. */
export function reader(
  reader_id: string,
  parser_type: 'tasmota' | 'generic_json',
  topic: string,
  machine: string,
  extra: Partial<BadgeReaderConfig> = {},
): BadgeReaderConfig {
  return {
    reader_id,
    name: `Reader ${reader_id}`,
    parser_type,
    topic,
    machine_device_id: machine,
    ...extra,
  };
}
