/**
 * The simulator's multi-channel, three-phase, clamp, Zigbee and ESPHome meters (issue 15). Each one
 * publishes what the real device publishes, announces itself the way discovery hears it, and answers
 * the worker's polls (and discovery's questions) like the firmware. Payload shapes, with the page
 * they follow:
 *
 * - Shelly Gen2+ components: Switch https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Switch#status,
 *   EM / EMData https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/EM#status,
 *   EM1 / EM1Data https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/EM1#status;
 *   `Shelly.GetDeviceInfo` https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Shelly#shellygetdeviceinfo;
 *   `<prefix>/online`, `<prefix>/events/rpc` NotifyStatus / NotifyFullStatus and RPC answers on
 *   `<src>/rpc`: https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Mqtt
 * - Shelly Gen1 3EM: `shellies/<id>/emeter/<i>/power|total`, `shellies/announce`, commands `update` /
 *   `announce`: https://shelly-api-docs.shelly.cloud/gen1/#shelly-3em-mqtt
 * - Tasmota (Sonoff Dual R3): `tele/<t>/SENSOR` with `ENERGY.Power` as an array, `tasmota/discovery/<MAC>/
 *   config|sensors`, `cmnd/<t>/STATUS` 8 / 10: https://tasmota.github.io/docs/MQTT/ and the Dual R3
 *   discovery log of https://github.com/arendst/Tasmota/issues/15084
 * - Zigbee2MQTT plug: `zigbee2mqtt/<friendly name>` JSON, `.../availability`, `.../get`, and its entry
 *   in `zigbee2mqtt/bridge/devices`: https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html
 * - ESPHome sensor: `<node>/sensor/<name>/state` with the bare value, `<node>/status` online/offline:
 *   https://esphome.io/components/mqtt.html
 */
import type { DeviceConfig, SessionConfig } from '@workshop-iot/shared';
import type { SimMessage } from './devices.ts';

/** What every meter kind here shares with the simulator (see SimDevice). */
export interface MeterChannelsSource {
  /** Power per channel now (channel 0 = the device's profile; the simulator supplies the others). */
  channelPowers: number[];
}

export const SIM_KINDS = [
  'pro4pm',
  'plus2pm',
  'pro3em',
  'emg3',
  'gen1-3em',
  'dualr3',
  'z2m-plug',
  'esphome',
] as const;
export type SimKind = (typeof SIM_KINDS)[number];

type Online = 'up' | 'down' | null;

/** Energy per channel and online transitions. */
abstract class ChannelMeter {
  readonly channels: number;
  protected power: number[];
  protected energyWh: number[];
  protected online = false;
  protected lastT: number | null = null;

  constructor(
    readonly id: string,
    readonly topic: string,
    channels: number,
  ) {
    this.channels = channels;
    this.power = new Array(channels).fill(0);
    this.energyWh = new Array(channels).fill(0);
  }

  protected advance(t_s: number, powers: number[], online: boolean): Online {
    if (this.lastT !== null && this.online) {
      const dt = Math.max(0, t_s - this.lastT);
      for (let c = 0; c < this.channels; c++)
        this.energyWh[c]! += ((this.power[c] ?? 0) * dt) / 3600;
    }
    this.lastT = t_s;
    this.power = Array.from({ length: this.channels }, (_, c) => Math.max(0, powers[c] ?? 0));
    const transition = online === this.online ? null : online ? 'up' : 'down';
    this.online = online;
    return transition;
  }

  protected round(n: number, digits = 1): number {
    const f = 10 ** digits;
    return Math.round(n * f) / f;
  }
}

// ------------------------------------------------------------------ Shelly Gen2+ (switch, em, em1)

interface Gen2Model {
  model: string;
  app: string;
  gen: number;
  /** Components as Shelly names them: switch:N, em:0 (+ emdata:0), em1:N (+ em1data:N). */
  layout: 'switch' | 'em' | 'em1';
  channels: number;
}

export const GEN2_MODELS: Record<'pro4pm' | 'plus2pm' | 'pro3em' | 'emg3', Gen2Model> = {
  pro4pm: { model: 'SPSW-004PE16EU', app: 'Pro4PM', gen: 2, layout: 'switch', channels: 4 },
  plus2pm: { model: 'SNSW-102P16EU', app: 'Plus2PM', gen: 2, layout: 'switch', channels: 2 },
  // The Pro 3EM's three phases are channels 0-2 of this simulator (a, b, c); em:0 sums them.
  pro3em: { model: 'SPEM-003CEBEU', app: 'Pro3EM', gen: 2, layout: 'em', channels: 3 },
  emg3: { model: 'S3EM-002CXCEU', app: 'EMG3', gen: 3, layout: 'em1', channels: 2 },
};

export class ShellyGen2Meter extends ChannelMeter {
  readonly family = 'shelly_gen2' as const;
  #reported: (number | null)[];

  constructor(
    id: string,
    readonly spec: Gen2Model,
  ) {
    super(id, id, spec.channels);
    this.#reported = new Array(spec.channels).fill(null);
  }

  get commandTopics() {
    return [`${this.topic}/rpc`];
  }
  get will(): SimMessage {
    return { topic: `${this.topic}/online`, payload: 'false', retain: true };
  }

  tick(t_s: number, power_w: number, online: boolean, channelPowers?: number[]): SimMessage[] {
    const transition = this.advance(t_s, channelPowers ?? [power_w], online);
    if (transition === 'down') return [this.will];
    if (!online) return [];
    const out: SimMessage[] = [];
    if (transition === 'up') {
      out.push({ topic: `${this.topic}/online`, payload: 'true', retain: true });
      out.push(this.#frame('NotifyFullStatus', { ts: t_s, ...this.status() }));
      this.#reported.fill(null);
    }
    const changed = this.#changedComponents();
    for (const component of changed) {
      const status = this.status()[component];
      out.push({ topic: `${this.topic}/status/${component}`, payload: JSON.stringify(status) });
      out.push(this.#frame('NotifyStatus', { ts: t_s, [component]: status }));
    }
    return out;
  }

  reading(): SimMessage {
    const component = this.#components()[0]!;
    return {
      topic: `${this.topic}/status/${component}`,
      payload: JSON.stringify(this.status()[component]),
    };
  }

  command(topic: string, payload: string): SimMessage[] {
    if (!this.online || topic !== `${this.topic}/rpc`) return [];
    let frame: { id?: unknown; src?: unknown; method?: unknown };
    try {
      frame = JSON.parse(payload);
    } catch {
      return [];
    }
    if (typeof frame.src !== 'string') return []; // Shelly drops frames without src
    const answer: Record<string, unknown> = { id: frame.id, src: this.id, dst: frame.src };
    if (frame.method === 'Shelly.GetStatus') answer.result = this.status();
    else if (frame.method === 'Shelly.GetDeviceInfo') answer.result = this.deviceInfo();
    else answer.error = { code: 404, message: `No handler for ${String(frame.method)}` };
    return [{ topic: `${frame.src}/rpc`, payload: JSON.stringify(answer) }];
  }

  deviceInfo() {
    const mac = this.id.split('-').at(-1)?.toUpperCase() ?? 'A8032AB12345';
    return {
      name: null,
      id: this.id,
      mac,
      slot: 0,
      model: this.spec.model,
      gen: this.spec.gen,
      fw_id: '20241011-114455/1.4.4-g6d2a586',
      ver: '1.4.4',
      app: this.spec.app,
      auth_en: false,
      auth_domain: null,
    };
  }

  /** Every component's status, as `Shelly.GetStatus` returns it (metering components + sys). */
  status(): Record<string, unknown> {
    const s: Record<string, unknown> = {};
    const ts = Math.floor((this.lastT ?? 0) / 60) * 60;
    if (this.spec.layout === 'switch') {
      for (let c = 0; c < this.channels; c++) {
        const p = this.power[c] ?? 0;
        s[`switch:${c}`] = {
          id: c,
          source: 'init',
          output: true,
          apower: this.round(p),
          voltage: 230.4,
          freq: 50,
          current: this.round(p / 230.4, 3),
          pf: p > 0 ? 0.93 : 0,
          aenergy: {
            total: this.round(this.energyWh[c] ?? 0, 3),
            by_minute: [0, 0, 0],
            minute_ts: ts,
          },
          temperature: { tC: 42.1, tF: 107.8 },
        };
      }
    } else if (this.spec.layout === 'em') {
      const [a = 0, b = 0, c = 0] = this.power;
      const phase = (p: number, v: number) => ({
        current: this.round(p / v, 3),
        voltage: v,
        act_power: this.round(p),
        aprt_power: this.round(p * 1.04),
        pf: p > 0 ? 0.96 : 0,
      });
      const pa = phase(a, 231.2);
      const pb = phase(b, 232.0);
      const pc = phase(c, 230.7);
      s['em:0'] = {
        id: 0,
        a_current: pa.current,
        a_voltage: pa.voltage,
        a_act_power: pa.act_power,
        a_aprt_power: pa.aprt_power,
        a_pf: pa.pf,
        b_current: pb.current,
        b_voltage: pb.voltage,
        b_act_power: pb.act_power,
        b_aprt_power: pb.aprt_power,
        b_pf: pb.pf,
        c_current: pc.current,
        c_voltage: pc.voltage,
        c_act_power: pc.act_power,
        c_aprt_power: pc.aprt_power,
        c_pf: pc.pf,
        n_current: null,
        total_current: this.round(pa.current + pb.current + pc.current, 3),
        total_act_power: this.round(a + b + c, 3),
        total_aprt_power: this.round((a + b + c) * 1.04, 3),
        user_calibrated_phase: [],
      };
      const [ea = 0, eb = 0, ec = 0] = this.energyWh;
      s['emdata:0'] = {
        id: 0,
        a_total_act_energy: this.round(ea, 2),
        a_total_act_ret_energy: 0,
        b_total_act_energy: this.round(eb, 2),
        b_total_act_ret_energy: 0,
        c_total_act_energy: this.round(ec, 2),
        c_total_act_ret_energy: 0,
        total_act: this.round(ea + eb + ec, 2),
        total_act_ret: 0,
      };
    } else {
      for (let c = 0; c < this.channels; c++) {
        const p = this.power[c] ?? 0;
        s[`em1:${c}`] = {
          id: c,
          current: this.round(p / 230.9, 3),
          voltage: 230.9,
          act_power: this.round(p),
          aprt_power: this.round(p * 1.05),
          pf: p > 0 ? 0.95 : 0,
          freq: 50,
          calibration: 'factory',
        };
        s[`em1data:${c}`] = {
          id: c,
          total_act_energy: this.round(this.energyWh[c] ?? 0, 2),
          total_act_ret_energy: 0,
        };
      }
    }
    s.sys = {
      mac: this.deviceInfo().mac,
      restart_required: false,
      uptime: Math.floor(this.lastT ?? 0),
    };
    return s;
  }

  /** Metering components whose power moved by more than ~5 % (at least 1 W) since reported. */
  #changedComponents(): string[] {
    const components = this.#components();
    const out: string[] = [];
    if (this.spec.layout === 'em') {
      const total = this.power.reduce((x, y) => x + y, 0);
      const last = this.#reported[0] ?? null;
      if (last === null || Math.abs(total - last) > Math.max(1, last * 0.05)) {
        this.#reported[0] = total;
        out.push('em:0');
      }
      return out;
    }
    components.forEach((component, c) => {
      const p = this.power[c] ?? 0;
      const last = this.#reported[c] ?? null;
      if (last === null || Math.abs(p - last) > Math.max(1, last * 0.05)) {
        this.#reported[c] = p;
        out.push(component);
      }
    });
    return out;
  }

  #components(): string[] {
    if (this.spec.layout === 'em') return ['em:0'];
    const type = this.spec.layout;
    return Array.from({ length: this.channels }, (_, c) => `${type}:${c}`);
  }

  #frame(method: string, params: Record<string, unknown>): SimMessage {
    const frame = { src: this.id, dst: `${this.topic}/events`, method, params };
    return { topic: `${this.topic}/events/rpc`, payload: JSON.stringify(frame) };
  }

  configs(session: SessionConfig): DeviceConfig[] {
    const base = {
      parser_type: 'shelly_gen2' as const,
      topic: this.topic,
      session_config: session,
    };
    if (this.spec.layout === 'em')
      return [
        {
          ...base,
          device_id: `${this.id}:total`,
          name: `Simulated ${this.spec.app} (3 phases)`,
          phase: 'total',
        },
      ];
    return Array.from({ length: this.channels }, (_, c) => ({
      ...base,
      device_id: `${this.id}:${c}`,
      name: `Simulated ${this.spec.app} channel ${c}`,
      channel: c,
    }));
  }
}

// ------------------------------------------------------------------ Shelly Gen1 3EM

export class ShellyGen1ThreeEm extends ChannelMeter {
  readonly family = 'shelly_gen1' as const;
  #next_s = 0;

  constructor(id: string) {
    super(id, id, 3);
  }

  get base() {
    return `shellies/${this.topic}`;
  }
  get commandTopics() {
    return [`${this.base}/command`, 'shellies/command'];
  }
  get will(): SimMessage {
    return { topic: `${this.base}/online`, payload: 'false', retain: true };
  }

  tick(t_s: number, power_w: number, online: boolean, channelPowers?: number[]): SimMessage[] {
    const transition = this.advance(t_s, channelPowers ?? [power_w], online);
    if (transition === 'down') return [this.will];
    if (!online) return [];
    const out: SimMessage[] = [];
    if (transition === 'up') {
      out.push({ topic: `${this.base}/online`, payload: 'true', retain: true });
      out.push(...this.#announce());
      this.#next_s = t_s;
    }
    if (t_s >= this.#next_s) {
      this.#next_s = t_s + 30; // Gen1 update_period
      out.push(...this.#state());
    }
    return out;
  }

  reading(): SimMessage {
    return { topic: `${this.base}/emeter/0/power`, payload: (this.power[0] ?? 0).toFixed(2) };
  }

  command(topic: string, payload: string): SimMessage[] {
    if (!this.online) return [];
    if (topic !== `${this.base}/command` && topic !== 'shellies/command') return [];
    if (payload === 'update') return [...this.#state(), this.#info()];
    if (payload === 'announce') return [...this.#announce(), this.#info()];
    return [];
  }

  #announce(): SimMessage[] {
    const announce = JSON.stringify({
      id: this.topic,
      model: 'SHEM-3',
      mac: '244CAB4354E2',
      ip: '192.168.1.60',
      new_fw: false,
      fw_ver: '20230913-114244/v1.14.0-gcb84623',
    });
    return [
      { topic: 'shellies/announce', payload: announce },
      { topic: `${this.base}/announce`, payload: announce },
    ];
  }

  /** Per emeter: power (W), pf, current, voltage, total (Wh) and total_returned. */
  #state(): SimMessage[] {
    const out: SimMessage[] = [{ topic: `${this.base}/relay/0`, payload: 'on' }];
    for (let i = 0; i < 3; i++) {
      const p = this.power[i] ?? 0;
      const e = `${this.base}/emeter/${i}`;
      out.push(
        { topic: `${e}/power`, payload: p.toFixed(2) },
        { topic: `${e}/pf`, payload: p > 0 ? '0.93' : '0.00' },
        { topic: `${e}/current`, payload: (p / 231).toFixed(2) },
        { topic: `${e}/voltage`, payload: '231.05' },
        { topic: `${e}/total`, payload: (this.energyWh[i] ?? 0).toFixed(1) },
        { topic: `${e}/total_returned`, payload: '0.0' },
      );
    }
    return out;
  }

  #info(): SimMessage {
    const emeters = this.power.map((p, i) => ({
      power: this.round(p, 2),
      pf: p > 0 ? 0.93 : 0,
      current: this.round(p / 231, 2),
      voltage: 231.05,
      is_valid: true,
      total: this.round(this.energyWh[i] ?? 0, 1),
      total_returned: 0,
    }));
    const status = {
      wifi_sta: { connected: true, ssid: 'Workshop', ip: '192.168.1.60', rssi: -58 },
      mqtt: { connected: true },
      relays: [{ ison: true, has_timer: false, overpower: false, is_valid: true, source: 'input' }],
      emeters,
      total_power: this.round(
        this.power.reduce((a, b) => a + b, 0),
        2,
      ),
      uptime: Math.floor(this.lastT ?? 0),
    };
    return { topic: `${this.base}/info`, payload: JSON.stringify(status) };
  }

  configs(session: SessionConfig): DeviceConfig[] {
    return [
      {
        device_id: `${this.id}:total`,
        name: 'Simulated Shelly 3EM (3 phases)',
        parser_type: 'shelly_gen1',
        topic: this.topic,
        phase: 'total',
        session_config: session,
      },
    ];
  }
}

// ------------------------------------------------------------------ Tasmota Sonoff Dual R3

export class TasmotaDualR3 extends ChannelMeter {
  readonly family = 'tasmota' as const;
  #next_s = 0;

  constructor(
    id: string,
    readonly mac: string,
    readonly telePeriod_s: number,
  ) {
    super(id, id, 2);
  }

  get commandTopics() {
    return [`cmnd/${this.topic}/STATUS`];
  }
  get will(): SimMessage {
    return { topic: `tele/${this.topic}/LWT`, payload: 'Offline', retain: true };
  }

  tick(t_s: number, power_w: number, online: boolean, channelPowers?: number[]): SimMessage[] {
    const transition = this.advance(t_s, channelPowers ?? [power_w], online);
    if (transition === 'down') return [this.will];
    if (!online) return [];
    const out: SimMessage[] = [];
    if (transition === 'up') {
      out.push({ topic: `tele/${this.topic}/LWT`, payload: 'Online', retain: true });
      out.push(...this.#discovery(t_s));
      this.#next_s = t_s;
    }
    if (t_s >= this.#next_s) {
      this.#next_s = t_s + this.telePeriod_s;
      out.push({
        topic: `tele/${this.topic}/STATE`,
        payload: JSON.stringify({
          Time: isoLocal(t_s),
          Uptime: '0T00:16:40',
          POWER1: 'ON',
          POWER2: 'ON',
        }),
      });
      out.push(this.reading());
    }
    return out;
  }

  reading(): SimMessage {
    const body = { Time: isoLocal(this.lastT ?? 0), ENERGY: this.#energy() };
    return { topic: `tele/${this.topic}/SENSOR`, payload: JSON.stringify(body) };
  }

  command(topic: string, payload: string): SimMessage[] {
    if (!this.online || topic !== `cmnd/${this.topic}/STATUS`) return [];
    const n = payload.trim();
    if (n !== '8' && n !== '10') return [];
    const body = { StatusSNS: { Time: isoLocal(this.lastT ?? 0), ENERGY: this.#energy() } };
    return [{ topic: `stat/${this.topic}/STATUS${n}`, payload: JSON.stringify(body) }];
  }

  /** Retained, as Tasmota publishes them on connect (SetOption19 0, the default). */
  #discovery(t_s: number): SimMessage[] {
    const config = {
      ip: '192.168.1.70',
      dn: 'Sonoff Dual R3',
      fn: ['Saw', 'Extractor', null, null, null, null, null, null],
      hn: `${this.topic}-2934`,
      mac: this.mac,
      md: 'Sonoff Dual R3',
      ty: 0,
      if: 0,
      ofln: 'Offline',
      onln: 'Online',
      state: ['OFF', 'ON', 'TOGGLE', 'HOLD'],
      sw: '13.2.0',
      t: this.topic,
      ft: '%prefix%/%topic%/',
      tp: ['cmnd', 'stat', 'tele'],
      rl: [1, 1, 0, 0, 0, 0, 0, 0],
      swc: [-1, -1, -1, -1, -1, -1, -1, -1],
      swn: [null, null, null, null, null, null, null, null],
      btn: [0, 0, 0, 0, 0, 0, 0, 0],
      so: {
        '4': 0,
        '11': 0,
        '13': 0,
        '17': 0,
        '20': 0,
        '30': 0,
        '68': 0,
        '73': 0,
        '82': 0,
        '114': 0,
        '117': 0,
      },
      lk: 0,
      lt_st: 0,
      sho: [0, 0, 0, 0],
      ver: 1,
    };
    const sensors = {
      sn: { Time: isoLocal(t_s), Switch1: 'ON', Switch2: 'ON', ENERGY: this.#energy() },
      ver: 1,
    };
    const base = `tasmota/discovery/${this.mac}`;
    return [
      { topic: `${base}/config`, payload: JSON.stringify(config), retain: true },
      { topic: `${base}/sensors`, payload: JSON.stringify(sensors), retain: true },
    ];
  }

  /** ENERGY with one entry per relay, as a Dual R3 (CSE7761) reports it; Total is the sum, kWh. */
  #energy() {
    const [p0 = 0, p1 = 0] = this.power;
    const total = (this.energyWh[0] ?? 0) + (this.energyWh[1] ?? 0);
    return {
      TotalStartTime: '2024-01-01T00:00:00',
      Total: this.round(total / 1000, 5),
      Yesterday: 0,
      Today: this.round(total / 1000, 5),
      Power: [this.round(p0, 3), this.round(p1, 3)],
      ApparentPower: [this.round(p0 * 1.05, 3), this.round(p1 * 1.05, 3)],
      ReactivePower: [this.round(p0 * 0.3, 3), this.round(p1 * 0.3, 3)],
      Factor: [p0 > 0 ? 0.95 : 0, p1 > 0 ? 0.95 : 0],
      Voltage: 229.4,
      Current: [this.round(p0 / 229.4, 3), this.round(p1 / 229.4, 3)],
    };
  }

  configs(session: SessionConfig): DeviceConfig[] {
    return [0, 1].map((c) => ({
      device_id: `${this.id}:${c}`,
      name: `Simulated Dual R3 channel ${c}`,
      parser_type: 'tasmota' as const,
      topic: this.topic,
      channel: c,
      session_config: session,
    }));
  }
}

// ------------------------------------------------------------------ Zigbee2MQTT plug

export class Zigbee2mqttPlug extends ChannelMeter {
  readonly family = 'generic_json' as const;
  #reported: number | null = null;

  constructor(
    id: string,
    readonly friendlyName: string,
    readonly ieee: string,
  ) {
    super(id, `zigbee2mqtt/${friendlyName}`, 1);
  }

  get commandTopics() {
    return [`${this.topic}/get`];
  }
  get will(): SimMessage {
    return { topic: `${this.topic}/availability`, payload: '{"state":"offline"}', retain: true };
  }

  tick(t_s: number, power_w: number, online: boolean): SimMessage[] {
    const transition = this.advance(t_s, [power_w], online);
    if (transition === 'down') return [this.will];
    if (!online) return [];
    const out: SimMessage[] = [];
    if (transition === 'up') {
      out.push({
        topic: `${this.topic}/availability`,
        payload: '{"state":"online"}',
        retain: true,
      });
      this.#reported = null;
    }
    const p = this.power[0] ?? 0;
    if (
      this.#reported === null ||
      Math.abs(p - this.#reported) > Math.max(1, this.#reported * 0.05)
    ) {
      this.#reported = p;
      out.push(this.reading());
    }
    return out;
  }

  reading(): SimMessage {
    const p = this.power[0] ?? 0;
    const body = {
      current: this.round(p / 230, 2),
      energy: this.round((this.energyWh[0] ?? 0) / 1000, 2),
      linkquality: 120,
      power: this.round(p),
      state: p > 0 ? 'ON' : 'OFF',
      voltage: 230,
    };
    return { topic: this.topic, payload: JSON.stringify(body) };
  }

  /** `zigbee2mqtt/<name>/get` {"state": ""}: Zigbee2MQTT reads the device and publishes its state. */
  command(topic: string): SimMessage[] {
    if (!this.online || topic !== `${this.topic}/get`) return [];
    return [this.reading()];
  }

  /** This plug's entry in `zigbee2mqtt/bridge/devices` (the simulator publishes the list). */
  bridgeEntry(): Record<string, unknown> {
    return {
      ieee_address: this.ieee,
      type: 'Router',
      network_address: 6540,
      supported: true,
      friendly_name: this.friendlyName,
      definition: {
        model: 'ZNCZ02LM',
        vendor: 'Xiaomi',
        description: 'Mi power plug ZigBee',
        exposes: [
          {
            type: 'switch',
            features: [
              {
                access: 7,
                name: 'state',
                property: 'state',
                type: 'binary',
                value_on: 'ON',
                value_off: 'OFF',
              },
            ],
          },
          { access: 5, name: 'power', property: 'power', type: 'numeric', unit: 'W' },
          { access: 1, name: 'energy', property: 'energy', type: 'numeric', unit: 'kWh' },
        ],
      },
      power_source: 'Mains (single phase)',
      interview_completed: true,
      interviewing: false,
    };
  }

  configs(session: SessionConfig): DeviceConfig[] {
    return [
      {
        device_id: this.id,
        name: `Simulated Zigbee plug ${this.friendlyName}`,
        parser_type: 'generic_json',
        topic: this.topic,
        generic: { field_path: 'power', unit: 'W', energy_path: 'energy', energy_unit: 'kWh' },
        session_config: session,
      },
    ];
  }
}

// ------------------------------------------------------------------ ESPHome power sensor

export class EsphomeSensor extends ChannelMeter {
  readonly family = 'generic_json' as const;
  #reported: number | null = null;

  constructor(
    id: string,
    readonly node: string,
  ) {
    super(id, `${node}/sensor/power/state`, 1);
  }

  get commandTopics(): string[] {
    return []; // ESPHome takes no poll over MQTT: the worker falls back to silence
  }
  get will(): SimMessage {
    return { topic: `${this.node}/status`, payload: 'offline', retain: true };
  }

  tick(t_s: number, power_w: number, online: boolean): SimMessage[] {
    const transition = this.advance(t_s, [power_w], online);
    if (transition === 'down') return [this.will];
    if (!online) return [];
    const out: SimMessage[] = [];
    if (transition === 'up') {
      out.push({ topic: `${this.node}/status`, payload: 'online', retain: true });
      this.#reported = null;
    }
    const p = this.power[0] ?? 0;
    if (
      this.#reported === null ||
      Math.abs(p - this.#reported) > Math.max(1, this.#reported * 0.05)
    ) {
      this.#reported = p;
      out.push(this.reading());
    }
    return out;
  }

  /** The bare value with the sensor's accuracy_decimals (1), as ESPHome publishes a sensor state. */
  reading(): SimMessage {
    return { topic: this.topic, payload: (this.power[0] ?? 0).toFixed(1) };
  }

  command(): SimMessage[] {
    return [];
  }

  /**
   * None yet: a bare-number payload needs the generic parser without a field path (issue 15's
   * parser part); until then an ESPHome machine is configured by hand.
   */
  configs(): DeviceConfig[] {
    return [];
  }
}

/** Tasmota prints local time without zone; the simulator starts its clock at a fixed instant. */
function isoLocal(t_s: number): string {
  return new Date(Date.UTC(2024, 0, 1) + t_s * 1000).toISOString().slice(0, 19);
}
