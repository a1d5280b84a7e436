/**
 * The meters discovery has heard of, merged from their announcements, and what was last reported.
 *
 * - Bounded: at most `cap` meters; a new one evicts the one heard of least recently (an evicted
 *   meter that announces itself again is simply new again).
 * - Deduplicated: a meter is due for a report when what would be reported changed, or when it was
 *   heard again more than `refreshMs` after its last report (Odoo's "last seen"). Zigbee2MQTT
 *   republishes its whole list on any change and Shellies re-announce on every reconnect: none of
 *   that reaches Odoo unless something changed.
 * - Ignored: meters Odoo says an administrator ignored are never due again.
 * A meter is reportable once it has a topic and at least one metering channel.
 */
import { type DiscoveredMeter, type DiscoveryFamily, validate } from '@workshop-iot/shared';
import type { Observation } from './types.ts';

export interface DiscoveryStoreOptions {
  cap?: number;
  refreshMs?: number;
  now?: () => number;
}

interface Entry {
  family: DiscoveryFamily;
  key: string;
  meter: Omit<DiscoveredMeter, 'channels' | 'topic'> & {
    topic: string | null;
    channels: DiscoveredMeter['channels'];
  };
  heardAt: number;
  reported: string | null;
  reportedAt: number;
  ignored: boolean;
}

export const DEFAULT_DISCOVERY_CAP = 2000;
export const DEFAULT_REFRESH_MS = 6 * 3600_000;

const entryKey = (family: string, key: string) => `${family}\u0000${key}`;

export class DiscoveryStore {
  readonly #cap: number;
  readonly #refreshMs: number;
  readonly #now: () => number;
  /** Insertion order = least recently heard first (an entry is re-inserted when heard). */
  readonly #entries = new Map<string, Entry>();
  #evicted = 0;

  constructor(options: DiscoveryStoreOptions = {}) {
    this.#cap = Math.max(1, options.cap ?? DEFAULT_DISCOVERY_CAP);
    this.#refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get evicted(): number {
    return this.#evicted;
  }

  /** Merge one observation; true when the meter is now due for a report. */
  observe(obs: Observation): boolean {
    const id = entryKey(obs.family, obs.device_key);
    let entry = this.#entries.get(id);
    if (entry) this.#entries.delete(id);
    else {
      entry = {
        family: obs.family,
        key: obs.device_key,
        meter: {
          family: obs.family,
          device_key: obs.device_key,
          model: null,
          name: null,
          parser_type: obs.parser_type,
          topic: null,
          channels: [],
        },
        heardAt: 0,
        reported: null,
        reportedAt: 0,
        ignored: false,
      };
      while (this.#entries.size >= this.#cap) {
        const oldest = this.#entries.keys().next().value as string;
        this.#entries.delete(oldest);
        this.#evicted++;
      }
    }
    this.#entries.set(id, entry);
    entry.heardAt = this.#now();
    const m = entry.meter;
    m.parser_type = obs.parser_type;
    if (obs.topic !== undefined) m.topic = obs.topic;
    if (obs.model !== undefined && obs.model !== null) m.model = obs.model;
    if (obs.name !== undefined && obs.name !== null) m.name = obs.name;
    if (obs.tasmota_full_topic === null) delete m.tasmota_full_topic;
    else if (obs.tasmota_full_topic !== undefined) m.tasmota_full_topic = obs.tasmota_full_topic;
    if (obs.channels !== undefined) m.channels = obs.channels;
    return this.#isDue(entry);
  }

  /** Reportable meters due for a report, at most `limit`, least recently heard first. */
  due(limit: number): DiscoveredMeter[] {
    const out: DiscoveredMeter[] = [];
    for (const entry of this.#entries.values()) {
      if (out.length >= limit) break;
      if (this.#isDue(entry)) out.push(reportable(entry) as DiscoveredMeter);
    }
    return out;
  }

  /** These meters reached Odoo as they are now. */
  reported(meters: readonly DiscoveredMeter[]): void {
    const now = this.#now();
    for (const meter of meters) {
      const entry = this.#entries.get(entryKey(meter.family, meter.device_key));
      if (!entry) continue;
      entry.reported = JSON.stringify(meter);
      entry.reportedAt = now;
    }
  }

  ignore(keys: readonly { family: DiscoveryFamily; device_key: string }[]): void {
    for (const k of keys) {
      const entry = this.#entries.get(entryKey(k.family, k.device_key));
      if (entry) entry.ignored = true;
    }
  }

  /**
   * Why this meter, complete, cannot be reported (its topic or a field breaks the contract), or null.
   * Discovery logs it: a meter is never left out silently.
   */
  problem(family: DiscoveryFamily, key: string): string | null {
    const entry = this.#entries.get(entryKey(family, key));
    if (!entry || entry.meter.topic === null || entry.meter.channels.length === 0) return null;
    const meter = { ...entry.meter, topic: entry.meter.topic };
    const errors = validate('discovery_report_params', { worker_uid: 'w', meters: [meter] });
    const first = errors[0];
    return first ? `${first.path.replace('/meters/0', '') || '/'} ${first.message}` : null;
  }

  /** Every meter known, reportable or not (for /health and tests). */
  list(): { family: DiscoveryFamily; device_key: string; ignored: boolean; reportable: boolean }[] {
    return [...this.#entries.values()].map((e) => ({
      family: e.family,
      device_key: e.key,
      ignored: e.ignored,
      reportable: reportable(e) !== null,
    }));
  }

  #isDue(entry: Entry): boolean {
    if (entry.ignored) return false;
    const meter = reportable(entry);
    if (!meter) return false;
    if (JSON.stringify(meter) !== entry.reported) return true;
    return entry.heardAt - entry.reportedAt >= this.#refreshMs;
  }
}

/** The wire form of an entry, or null while it lacks a topic or a channel or breaks the contract. */
function reportable(entry: Entry): DiscoveredMeter | null {
  const m = entry.meter;
  if (m.topic === null || m.channels.length === 0) return null;
  const meter = { ...m, topic: m.topic } as DiscoveredMeter;
  // One meter's odd value (a topic with a control character) must not fail the whole report.
  return validate('discovery_report_params', { worker_uid: 'w', meters: [meter] }).length === 0
    ? meter
    : null;
}
