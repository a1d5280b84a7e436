/**
 * Simulated badge readers (issue 16): what a real reader publishes when a card is held to it.
 *
 *   tasmota-pn532   a PN532 wired to a simulated Tasmota plug: `tele/<plug>/SENSOR` with
 *                   `{"Time":…,"PN532":{"UID":…,"DATA":""}}` on the plug's own topic (the meter and
 *                   the reader share it), as Tasmota's PN532 driver reports a read
 *                   (https://tasmota.github.io/docs/PN532/). Without a Tasmota plug in the
 *                   simulation it gets a topic of its own.
 *   esphome-reader  an ESPHome node with a text sensor fed from `on_tag`:
 *                   `<node>/text_sensor/badge/state` = the UID as ESPHome writes it ("74-10-37-94").
 *
 * A reader is paired with a simulated machine (its plug, or the machine of the same index).
 */
import type { BadgeReaderConfig } from '@workshop-iot/shared';
import { isoLocal, type SimDevice, type SimMessage } from './devices.ts';

export const SIM_READER_KINDS = ['tasmota-pn532', 'esphome-reader'] as const;
export type SimReaderKind = (typeof SIM_READER_KINDS)[number];

export class SimBadgeReader {
  constructor(
    readonly kind: SimReaderKind,
    readonly id: string,
    /** Tasmota `%topic%` (its plug's) or the full ESPHome state topic. */
    readonly topic: string,
    readonly machineId: string,
  ) {}

  /** The message the reader publishes when `uid` is held to it at simulated second `t_s`. */
  present(uid: string, t_s: number): SimMessage {
    if (this.kind === 'tasmota-pn532') {
      const body = { Time: isoLocal(t_s), PN532: { UID: uid, DATA: '' } };
      return { topic: `tele/${this.topic}/SENSOR`, payload: JSON.stringify(body) };
    }
    return { topic: this.topic, payload: uid };
  }

  /** The worker's config for this reader. */
  config(): BadgeReaderConfig {
    return {
      reader_id: this.id,
      name: `Simulated ${this.kind} ${this.id}`,
      parser_type: this.kind === 'tasmota-pn532' ? 'tasmota' : 'generic_json',
      topic: this.topic,
      machine_device_id: this.machineId,
    };
  }
}

/**
 * The readers for `kinds`, reader k paired with a machine: a PN532 with the k-th Tasmota plug when
 * there is one, any reader otherwise with machine k (modulo the number of machines).
 */
export function makeReaders(
  kinds: readonly SimReaderKind[],
  devices: readonly SimDevice[],
  machineIds: readonly string[],
  prefix: string,
): SimBadgeReader[] {
  const plugs = devices.filter((d) => d.family === 'tasmota' && d.channels === undefined);
  return kinds.map((kind, k) => {
    const n = String(k + 1).padStart(4, '0');
    const machine = machineIds.length > 0 ? machineIds[k % machineIds.length]! : `${prefix}-none`;
    if (kind === 'tasmota-pn532') {
      const plug = plugs[k % Math.max(1, plugs.length)];
      return plug
        ? new SimBadgeReader(kind, `${prefix}-pn532-${n}`, plug.topic, plug.id)
        : new SimBadgeReader(kind, `${prefix}-pn532-${n}`, `${prefix}-pn532-${n}`, machine);
    }
    const node = `${prefix}-esphome-reader-${n}`;
    return new SimBadgeReader(kind, node, `${node}/text_sensor/badge/state`, machine);
  });
}
