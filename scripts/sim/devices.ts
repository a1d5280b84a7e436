/**
 * Simulated meters. Each one turns (simulated time, power, online) into the MQTT traffic its real
 * counterpart publishes, and answers the worker's polls the way the real firmware does.
 * Payload shapes follow the Shelly Gen1/Gen2 and Tasmota documentation.
 */
import type { DeviceConfig, ParserType, SessionConfig } from '@workshop-iot/shared';

export const SIM_FAMILIES = ['shelly_gen2', 'shelly_gen1', 'tasmota'] as const;
export type SimFamily = (typeof SIM_FAMILIES)[number];

export interface SimMessage {
  topic: string;
  payload: string;
  retain?: boolean;
}

export interface SimDevice {
  /** The parser that reads it (the meter kinds of meters.ts add generic_json). */
  readonly family: ParserType;
  readonly id: string;
  readonly topic: string;
  /** Topics the device listens on for polls/commands. */
  readonly commandTopics: string[];
  /** The availability message a broker publishes as last will when the device drops. */
  readonly will: SimMessage;
  /** Metering channels (meters.ts kinds); the simulator then passes one power per channel. */
  readonly channels?: number;
  /** Advance to `t_s` with the given draw; returns what the device publishes now. */
  tick(t_s: number, power_w: number, online: boolean, channelPowers?: number[]): SimMessage[];
  /** One reading message regardless of change (load mode `--rate`). */
  reading(): SimMessage;
  /** Answer a command/poll, or nothing (offline devices answer nothing). */
  command(topic: string, payload: string): SimMessage[];
  /** The worker configs of its machines (one per channel); default: `deviceConfigFor`. */
  configs?(session: SessionConfig): DeviceConfig[];
  /** Its entry in the one `zigbee2mqtt/bridge/devices` list the simulator publishes. */
  bridgeEntry?(): Record<string, unknown>;
}

/** Energy integration and online transitions shared by all families. */
abstract class BaseDevice {
  protected power_w = 0;
  protected energy_wh = 0;
  protected online = false;
  protected last_t_s: number | null = null;

  constructor(
    readonly id: string,
    readonly topic: string,
  ) {}

  /** Integrate energy and return 'up'/'down' on an availability transition. */
  protected advance(t_s: number, power_w: number, online: boolean): 'up' | 'down' | null {
    if (this.last_t_s !== null && this.online) {
      this.energy_wh += (this.power_w * Math.max(0, t_s - this.last_t_s)) / 3600;
    }
    this.last_t_s = t_s;
    this.power_w = power_w;
    const transition = online === this.online ? null : online ? 'up' : 'down';
    this.online = online;
    return transition;
  }
}

/** Shelly Plus 1PM (`switch:0`) or PM Mini Gen3 (`pm1:0`): reports on change, energy per minute. */
export class ShellyGen2Device extends BaseDevice implements SimDevice {
  readonly family = 'shelly_gen2';
  readonly component: 'switch:0' | 'pm1:0';
  #reported_w: number | null = null;
  #minute = -1;

  constructor(id: string, topic: string, component: 'switch:0' | 'pm1:0') {
    super(id, topic);
    this.component = component;
  }

  get commandTopics() {
    return [`${this.topic}/rpc`];
  }
  get will() {
    return { topic: `${this.topic}/online`, payload: 'false', retain: true };
  }

  tick(t_s: number, power_w: number, online: boolean): SimMessage[] {
    const transition = this.advance(t_s, power_w, online);
    if (transition === 'down') return [this.will];
    if (!online) return [];
    const out: SimMessage[] = [];
    if (transition === 'up') {
      out.push({ topic: `${this.topic}/online`, payload: 'true', retain: true });
      this.#reported_w = null;
    }
    // Shelly reports when apower moves by more than ~5 % (at least 1 W): steady load = silence.
    const last = this.#reported_w;
    if (last === null || Math.abs(power_w - last) > Math.max(1, last * 0.05)) {
      this.#reported_w = power_w;
      out.push(this.reading());
      out.push(this.#notify({ apower: power_w }, t_s));
    }
    const minute = Math.floor(t_s / 60);
    if (minute !== this.#minute) {
      this.#minute = minute;
      out.push(this.#notify({ aenergy: this.#aenergy(t_s) }, t_s));
    }
    return out;
  }

  reading(): SimMessage {
    return {
      topic: `${this.topic}/status/${this.component}`,
      payload: JSON.stringify(this.#status()),
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
    if (frame.method === 'Shelly.GetStatus') {
      answer.result = { [this.component]: this.#status(), sys: { uptime: 1000 } };
    } else if (frame.method === 'Shelly.GetDeviceInfo') {
      // https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Shelly#shellygetdeviceinfo
      const plus = this.component === 'switch:0';
      answer.result = {
        name: null,
        id: this.id,
        mac: 'A8032AB1C2D3',
        slot: 0,
        model: plus ? 'SNSW-001P16EU' : 'S3PM-001PCEU16',
        gen: plus ? 2 : 3,
        fw_id: '20241011-114455/1.4.4-g6d2a586',
        ver: '1.4.4',
        app: plus ? 'Plus1PM' : 'MiniPMG3',
        auth_en: false,
        auth_domain: null,
      };
    } else {
      answer.error = { code: 404, message: `No handler for ${String(frame.method)}` };
    }
    // Shelly's MQTT RPC channel answers on `<src>/rpc`.
    return [{ topic: `${frame.src}/rpc`, payload: JSON.stringify(answer) }];
  }

  #status() {
    const status: Record<string, unknown> = {
      id: 0,
      apower: this.power_w,
      voltage: 230.1,
      current: Math.round((this.power_w / 230.1) * 1000) / 1000,
      freq: 50,
      aenergy: this.#aenergy(this.last_t_s ?? 0),
      temperature: { tC: 41.2, tF: 106.2 },
    };
    if (this.component === 'switch:0') {
      Object.assign(status, { source: 'init', output: true, pf: 0.92 });
    }
    return status;
  }

  #aenergy(t_s: number) {
    return {
      total: Math.round(this.energy_wh * 1000) / 1000,
      by_minute: [0, 0, 0],
      minute_ts: Math.floor(t_s / 60) * 60,
    };
  }

  #notify(delta: Record<string, unknown>, t_s: number): SimMessage {
    const frame = {
      src: this.id,
      dst: `${this.topic}/events`,
      method: 'NotifyStatus',
      params: { ts: t_s, [this.component]: { id: 0, ...delta } },
    };
    return { topic: `${this.topic}/events/rpc`, payload: JSON.stringify(frame) };
  }
}

/**
 * Shelly Plug S (Gen1): its state every update_period (30 s) and on a clear change. Commands on
 * `shellies/<id>/command` as Shelly's Gen1 API documents them
 * (https://shelly-api-docs.shelly.cloud/gen1/#common-mqtt-commands): `update` publishes the state
 * (relay/0, relay/0/power, relay/0/energy and the /status JSON on `info`), `announce` the announce
 * message and `info`. Anything else (e.g. the Gen2 `status_update`) is ignored, as a real Gen1 does.
 */
export class ShellyGen1Device extends BaseDevice implements SimDevice {
  readonly family = 'shelly_gen1';
  #next_s = 0;
  #reported_w: number | null = null;

  get base() {
    return `shellies/${this.topic}`;
  }
  /** Its own command topic and `shellies/command`, which every Gen1 device listens to. */
  get commandTopics() {
    return [`${this.base}/command`, 'shellies/command'];
  }
  get will() {
    return { topic: `${this.base}/online`, payload: 'false', retain: true };
  }

  tick(t_s: number, power_w: number, online: boolean): SimMessage[] {
    const transition = this.advance(t_s, power_w, online);
    if (transition === 'down') return [this.will];
    if (!online) return [];
    const out: SimMessage[] = [];
    if (transition === 'up') {
      out.push({ topic: `${this.base}/online`, payload: 'true', retain: true });
      this.#next_s = t_s;
    }
    // Besides the periodic update, Gen1 reports a clear change at once (not every jitter).
    const last = this.#reported_w;
    const changed = last !== null && Math.abs(power_w - last) > Math.max(5, last * 0.1);
    if (t_s >= this.#next_s || changed) {
      this.#next_s = t_s + 30;
      this.#reported_w = power_w;
      out.push(...this.#state());
    }
    return out;
  }

  reading(): SimMessage {
    return { topic: `${this.base}/relay/0/power`, payload: this.power_w.toFixed(2) };
  }

  command(topic: string, payload: string): SimMessage[] {
    if (!this.online || (topic !== `${this.base}/command` && topic !== 'shellies/command'))
      return [];
    if (payload === 'update') return [...this.#state(), this.#info()];
    if (payload === 'announce') {
      const announce = JSON.stringify({
        id: this.topic,
        model: 'SHPLG-S',
        mac: '7C87CEB4A1B2',
        ip: '192.168.1.50',
        new_fw: false,
        fw_ver: '20230913-113421/v1.14.0-gcb84623',
      });
      return [
        { topic: 'shellies/announce', payload: announce },
        { topic: `${this.base}/announce`, payload: announce },
        this.#info(),
      ];
    }
    return [];
  }

  #state(): SimMessage[] {
    return [
      { topic: `${this.base}/relay/0`, payload: this.power_w > 0 ? 'on' : 'off' },
      this.reading(),
      // Gen1 counts watt-minutes (integer) since boot.
      { topic: `${this.base}/relay/0/energy`, payload: String(this.#wattMinutes()) },
    ];
  }

  /** The /status JSON on `info`, shaped like a real Plug S / 1PM (meters[0] = channel 0). */
  #info(): SimMessage {
    const status = {
      wifi_sta: { connected: true, ssid: 'Workshop', ip: '192.168.1.50', rssi: -61 },
      mqtt: { connected: true },
      relays: [{ ison: this.power_w > 0, has_timer: false, overpower: false, source: 'input' }],
      meters: [
        {
          power: this.power_w,
          overpower: 0,
          is_valid: true,
          timestamp: Math.floor((this.last_t_s ?? 0) + 1_700_000_000),
          counters: [this.power_w, this.power_w, this.power_w],
          total: this.#wattMinutes(),
        },
      ],
      temperature: 38.7,
      overtemperature: false,
      uptime: 1000,
    };
    return { topic: `${this.base}/info`, payload: JSON.stringify(status) };
  }

  #wattMinutes(): number {
    return Math.round(this.energy_wh * 60);
  }
}

/** Tasmota plug: SENSOR + STATE every TelePeriod, LWT, answers `STATUS 8`. */
export class TasmotaDevice extends BaseDevice implements SimDevice {
  readonly family = 'tasmota';
  #next_s = 0;

  constructor(
    id: string,
    topic: string,
    readonly telePeriod_s: number,
  ) {
    super(id, topic);
  }

  get commandTopics() {
    return [`cmnd/${this.topic}/STATUS`];
  }
  get will() {
    return { topic: `tele/${this.topic}/LWT`, payload: 'Offline', retain: true };
  }

  tick(t_s: number, power_w: number, online: boolean): SimMessage[] {
    const transition = this.advance(t_s, power_w, online);
    if (transition === 'down') return [this.will];
    if (!online) return [];
    const out: SimMessage[] = [];
    if (transition === 'up') {
      out.push({ topic: `tele/${this.topic}/LWT`, payload: 'Online', retain: true });
      this.#next_s = t_s;
    }
    if (t_s >= this.#next_s) {
      this.#next_s = t_s + this.telePeriod_s;
      out.push({
        topic: `tele/${this.topic}/STATE`,
        payload: JSON.stringify({ Time: isoLocal(t_s), Uptime: '0T00:16:40', POWER: 'ON' }),
      });
      out.push(this.reading());
    }
    return out;
  }

  reading(): SimMessage {
    const body = { Time: isoLocal(this.last_t_s ?? 0), ENERGY: this.#energy() };
    return { topic: `tele/${this.topic}/SENSOR`, payload: JSON.stringify(body) };
  }

  command(topic: string, payload: string): SimMessage[] {
    if (!this.online || topic !== `cmnd/${this.topic}/STATUS`) return [];
    const n = payload.trim();
    if (n !== '8' && n !== '10') return [];
    const body = { StatusSNS: { Time: isoLocal(this.last_t_s ?? 0), ENERGY: this.#energy() } };
    return [{ topic: `stat/${this.topic}/STATUS${n}`, payload: JSON.stringify(body) }];
  }

  #energy() {
    const current = Math.round((this.power_w / 229) * 1000) / 1000;
    return {
      TotalStartTime: '2024-01-01T00:00:00',
      Total: Math.round(this.energy_wh * 10) / 10000, // kWh, 3 decimals as Tasmota prints
      Yesterday: 0.0,
      Today: Math.round(this.energy_wh * 10) / 10000,
      Power: Math.round(this.power_w),
      ApparentPower: Math.round(this.power_w * 1.05),
      ReactivePower: Math.round(this.power_w * 0.3),
      Factor: this.power_w > 0 ? 0.95 : 0,
      Voltage: 229,
      Current: current,
    };
  }
}

/** Tasmota prints local time without zone; the simulator starts its clock at a fixed instant. */
export function isoLocal(t_s: number): string {
  return new Date(Date.UTC(2024, 0, 1) + t_s * 1000).toISOString().slice(0, 19);
}

/** The worker-side config matching a simulated device. */
export function deviceConfigFor(device: SimDevice, thresholds: [number, number]): DeviceConfig {
  return {
    device_id: device.id,
    name: `Simulated ${device.family} ${device.id}`,
    parser_type: device.family,
    topic: device.topic,
    session_config: simSessionConfig(thresholds),
  };
}

/** The session settings of every simulated machine. */
export function simSessionConfig(thresholds: [number, number]): SessionConfig {
  return {
    standby_threshold_w: thresholds[0],
    working_threshold_w: thresholds[1],
    start_debounce_s: 10,
    stop_debounce_s: 30,
    message_timeout_s: 360,
    heartbeat_interval_s: 300,
  };
}
