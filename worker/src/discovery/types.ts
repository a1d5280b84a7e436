/**
 * What the announce parsers return. A parser sees one message and usually knows only part of a meter
 * (a Shelly's model comes with `Shelly.GetDeviceInfo`, its channels with its status; a Tasmota's topic
 * with `config`, its channels with `sensors`): it returns observations, which the store merges per
 * (family, device_key), and the requests it wants published to learn the rest.
 */
import type { DiscoveredChannel, DiscoveryFamily, ParserType } from '@workshop-iot/shared';

export interface Observation {
  family: DiscoveryFamily;
  device_key: string;
  parser_type: ParserType;
  topic?: string;
  model?: string | null;
  name?: string | null;
  /** null: the device uses Tasmota's default FullTopic (clears an earlier custom one). */
  tasmota_full_topic?: string | null;
  channels?: DiscoveredChannel[];
}

export interface DiscoveryRequest {
  topic: string;
  payload: string;
  /** Requests to one device are rate limited by this key (the Shelly topic prefix). */
  key: string;
}

export type AnnounceResult =
  | { kind: 'observed'; observations: Observation[]; requests: DiscoveryRequest[] }
  /** A message on a discovery topic that announces nothing (a Shelly NotifyStatus, `online` false). */
  | { kind: 'ignored' }
  | { kind: 'invalid'; reason: string };

export const IGNORED: AnnounceResult = Object.freeze({ kind: 'ignored' });

export function observed(
  observations: Observation[],
  requests: DiscoveryRequest[] = [],
): AnnounceResult {
  return { kind: 'observed', observations, requests };
}

export function invalid(reason: string): AnnounceResult {
  return { kind: 'invalid', reason };
}

/** JSON object from a payload, or the reason it is not one. */
export function jsonObject(payload: Buffer): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'payload is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'payload is not a JSON object';
  return value as Record<string, unknown>;
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A short text field of an announcement, or null. */
export function text(v: unknown, max = 128): string | null {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, max) : null;
}
