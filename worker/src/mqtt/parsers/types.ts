/**
 * A parser understands one payload family (`parser_type`). It turns topic + payload into a
 * `ParseResult`; it never throws on bad input (it returns `{ kind: 'invalid' }` with a reason).
 * A parser may keep small per-device state (e.g. the last power, to pair it with an energy-only
 * message), so each `Ingest` creates its own parser instances (`createParserRegistry()`).
 */
import type { DeviceConfig } from '@workshop-iot/shared';
import type { DeviceInput } from '../../devices/types.ts';

export type ParseResult =
  | { kind: 'input'; input: DeviceInput }
  /** A message on a subscribed topic that this parser deliberately ignores (e.g. Shelly's `/info`). */
  | { kind: 'ignored' }
  /** A bad payload: counted and logged (rate-limited) by the caller, never turned into an event. */
  | { kind: 'invalid'; reason: string };

export interface PollRequest {
  topic: string;
  payload: string;
}

export interface Parser {
  /**
   * Topic filters to subscribe for this device. All built-in parsers return exact topics (no
   * wildcards), which is what lets `Ingest` route with a single Map lookup per message.
   */
  subscriptions(device: DeviceConfig): string[];
  /** True when `topic` belongs to `device` under this parser (used to route messages). */
  matches(device: DeviceConfig, topic: string): boolean;
  parse(device: DeviceConfig, topic: string, payload: Buffer): ParseResult;
  /** How to ask the device for its status after silence; null when it cannot be polled. */
  poll(device: DeviceConfig): PollRequest | null;
  /** Drop per-device state when a device is removed or reconfigured (optional). */
  forget?(deviceId: string): void;
}
