/**
 * The device simulator as a library: N simulated meters publishing to any broker, on a simulated
 * clock that runs `speed` times faster than real time, or is advanced by hand (`advance`) in tests.
 *
 *   const sim = new Simulator({ brokerUrl: 'mqtt://127.0.0.1:1884', scenario: 'full-session' });
 *   await sim.start();            // connects, publishes birth messages, starts the clock
 *   await sim.finished;           // one run of the scenario (or sim.stop() at any time)
 *
 * However it ends (scenario over, `stop()` on Ctrl-C/SIGTERM), every meter first reports 0 W in its
 * own format, so the worker closes the open sessions at once instead of waiting for a timeout.
 *
 * Badge readers (readers.ts) present cards on demand (`presentCard(readerIndex, uid)`) or at
 * simulated times (`presentations`).
 */
import type { BadgeReaderConfig, DeviceConfig } from '@workshop-iot/shared';
import mqtt, { type MqttClient } from 'mqtt';
import {
  deviceConfigFor,
  ShellyGen1Device,
  ShellyGen2Device,
  SIM_FAMILIES,
  type SimDevice,
  type SimFamily,
  type SimMessage,
  simSessionConfig,
  TasmotaDevice,
} from './devices.ts';
import {
  EsphomeSensor,
  GEN2_MODELS,
  ShellyGen1ThreeEm,
  ShellyGen2Meter,
  type SimKind,
  TasmotaDualR3,
  Zigbee2mqttPlug,
} from './meters.ts';
import { seededRandom } from './random.ts';
import { makeReaders, type SimBadgeReader, type SimReaderKind } from './readers.ts';
import {
  type Profile,
  profileFor,
  type ScenarioName,
  SIM_STANDBY_THRESHOLD_W,
  SIM_WORKING_THRESHOLD_W,
} from './scenarios.ts';

export interface SimulatorOptions {
  brokerUrl: string;
  username?: string;
  password?: string;
  scenario: ScenarioName;
  /** Default: one per family (3), or 100 for many-devices. */
  devices?: number;
  families?: readonly SimFamily[];
  /**
   * Meter kinds of meters.ts (Pro 4PM, Plus 2PM, Pro 3EM, EM Gen3, Gen1 3EM, Dual R3, Zigbee plug,
   * ESPHome sensor), one device each, after the family devices. Given alone (no `families`, no
   * `devices`), only these run.
   */
  kinds?: readonly SimKind[];
  /** Badge readers, one per entry, each paired with a simulated machine (readers.ts). */
  readers?: readonly SimReaderKind[];
  /** Cards presented at simulated times: reader index, card UID as the reader reports it. */
  presentations?: readonly SimPresentation[];
  /** Prefix of every simulated device id/topic (default `sim`). */
  prefix?: string;
  /** Simulated seconds per real second (default 1). */
  speed?: number;
  /** Load mode: publish this many reading messages per real second in total, round-robin. */
  rate?: number | null;
  /** Simulated seconds to run; default one scenario run; 0 = forever (loops). */
  durationS?: number;
  /** Repeat the scenario until stop() (same as durationS 0; each new run is logged). */
  loop?: boolean;
  /** Tasmota TelePeriod in simulated seconds (default 300, Tasmota's default). */
  telePeriodS?: number;
  seed?: number;
  /** MQTT connections; devices are spread over them. Default min(devices, 50). */
  connections?: number;
  /** false = the clock only moves through `advance()` (tests). Default true. */
  autoTick?: boolean;
  log?: (line: string) => void;
}

export interface SimPresentation {
  reader: number;
  uid: string;
  at_s: number;
}

export interface SimStats {
  sim_time_s: number;
  published: number;
  cards_presented: number;
  polls_answered: number;
  devices: number;
  /** Scenario runs started (more than 1 only when looping). */
  runs: number;
}

/** Real-time granularity of the automatic clock. */
const MIN_TICK_MS = 20;
/** How long the final 0 W reports may take before the connections are closed anyway (broker gone). */
const FINAL_REPORT_TIMEOUT_MS = 3000;

interface Slot {
  device: SimDevice;
  profile: Profile;
  client: MqttClient;
}

export class Simulator {
  readonly devices: SimDevice[];
  readonly readers: SimBadgeReader[];
  readonly finished: Promise<void>;
  readonly #options: SimulatorOptions;
  readonly #slots: Slot[] = [];
  /** Several devices may listen on one topic (every Gen1 hears `shellies/command`). */
  readonly #byCommandTopic = new Map<string, Slot[]>();
  readonly #clients: MqttClient[] = [];
  readonly #profiles: Profile[];
  #resolveFinished!: () => void;
  #timer: NodeJS.Timeout | null = null;
  #t_s = 0;
  #published = 0;
  #pollsAnswered = 0;
  #cardsPresented = 0;
  #rateBudget = 0;
  #rateCursor = 0;
  #runs = 0;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(options: SimulatorOptions) {
    this.#options = options;
    const random = seededRandom(options.seed ?? 1);
    const families = options.families?.length ? options.families : SIM_FAMILIES;
    const kinds = options.kinds ?? [];
    const onlyKinds =
      kinds.length > 0 && !options.families?.length && options.devices === undefined;
    const count = onlyKinds
      ? 0
      : (options.devices ?? (options.scenario === 'many-devices' ? 100 : families.length));
    const prefix = options.prefix ?? 'sim';
    this.devices = [];
    this.#profiles = [];
    for (let i = 0; i < count; i++) {
      const family = families[i % families.length]!;
      this.devices.push(makeDevice(family, prefix, i, options.telePeriodS ?? 300));
      this.#profiles.push(profileFor(options.scenario, i, random));
    }
    kinds.forEach((kind, k) => {
      const i = count + k;
      this.devices.push(makeKindDevice(kind, prefix, i, options.telePeriodS ?? 300));
      this.#profiles.push(profileFor(options.scenario, i, random));
    });
    const machines = this.deviceConfigs().map((c) => c.device_id);
    this.readers = makeReaders(options.readers ?? [], this.devices, machines, prefix);
    for (const p of options.presentations ?? []) {
      if (!this.readers[p.reader]) throw new Error(`presentation: no reader ${p.reader}`);
    }
    this.finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
  }

  /** Badge reader configs a worker needs to follow the simulated readers. */
  readerConfigs(): BadgeReaderConfig[] {
    return this.readers.map((r) => r.config());
  }

  /**
   * Hold card `uid` to reader `readerIndex` now (the simulation must be running): the reader
   * publishes its read, as the real one does; resolves when the broker has it.
   */
  async presentCard(readerIndex: number, uid: string): Promise<void> {
    const reader = this.readers[readerIndex];
    if (!reader) throw new Error(`no reader ${readerIndex} (${this.readers.length} simulated)`);
    const client = this.#clients[0];
    if (this.#state !== 'running' || !client) throw new Error('the simulator is not running');
    this.#cardsPresented++;
    await this.#publish(client, reader.present(uid, this.#t_s));
  }

  /** Device configs a worker needs to follow these devices. */
  deviceConfigs(): DeviceConfig[] {
    const thresholds: [number, number] = [SIM_STANDBY_THRESHOLD_W, SIM_WORKING_THRESHOLD_W];
    return this.devices.flatMap(
      (d) => d.configs?.(simSessionConfig(thresholds)) ?? [deviceConfigFor(d, thresholds)],
    );
  }

  /** Connect, subscribe to command topics, publish the first tick, start the clock. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('Simulator cannot be restarted');
    this.#state = 'running';
    const { brokerUrl, username, password } = this.#options;
    const connections = Math.max(1, Math.min(this.devices.length, this.#options.connections ?? 50));
    const perDevice = connections === this.devices.length;
    for (let c = 0; c < connections; c++) {
      // With one connection per device, the broker publishes the device's last will like a real one.
      const will = perDevice ? this.devices[c]!.will : undefined;
      const client = await mqtt.connectAsync(brokerUrl, {
        clientId: `${this.#options.prefix ?? 'sim'}-simulator-${process.pid}-${c}`,
        username,
        password,
        reconnectPeriod: 1000,
        ...(will ? { will: { ...will, retain: true, qos: 1 as const } } : {}),
      });
      client.on('message', (topic, payload) => this.#onCommand(topic, payload.toString('utf8')));
      this.#clients.push(client);
    }
    this.devices.forEach((device, i) => {
      const slot = { device, profile: this.#profiles[i]!, client: this.#clients[i % connections]! };
      this.#slots.push(slot);
      for (const topic of device.commandTopics)
        this.#byCommandTopic.set(topic, [...(this.#byCommandTopic.get(topic) ?? []), slot]);
    });
    await Promise.all(
      this.#clients.map((client, c) => {
        const topics = this.#slots.filter((_, i) => i % connections === c);
        const filters = [...new Set(topics.flatMap((s) => s.device.commandTopics))];
        return filters.length > 0 ? client.subscribeAsync(filters) : Promise.resolve();
      }),
    );
    await this.#publishBridgeDevices();
    this.#log(
      `simulating ${this.devices.length} device(s), scenario ${this.#options.scenario}, ` +
        `${connections} connection(s), speed x${this.#options.speed ?? 1}`,
    );
    await this.#tickAll(0);
    this.#countRun();
    if (this.#options.autoTick !== false) this.#schedule();
  }

  /** Move the simulated clock forward by `seconds` in 1 s steps (manual mode); resolves when sent. */
  async advance(seconds: number): Promise<void> {
    const end = this.#t_s + seconds;
    while (this.#t_s < end && this.#state === 'running') {
      await this.#tickAll(Math.min(end, this.#t_s + 1));
      this.#countRun();
    }
  }

  /** Every meter reports 0 W, then the connections close; `finished` resolves. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return this.finished;
    const wasRunning = this.#state === 'running';
    this.#state = 'stopping';
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const reported = wasRunning ? await this.#reportZero() : true;
    this.#state = 'stopped';
    // A broker that did not take the last reports within the timeout is not waited for.
    await Promise.all(this.#clients.map((c) => c.endAsync(!reported)));
    this.#resolveFinished();
  }

  stats(): SimStats {
    return {
      sim_time_s: this.#t_s,
      published: this.#published,
      polls_answered: this.#pollsAnswered,
      cards_presented: this.#cardsPresented,
      devices: this.devices.length,
      runs: this.#runs,
    };
  }

  /**
   * The clean end: each device moves to 0 W (tick: energy integrated, back online if it was not)
   * and then publishes its power reading, last, whatever its change threshold or report period.
   * Resolves false when the broker did not take the messages within FINAL_REPORT_TIMEOUT_MS.
   */
  async #reportZero(): Promise<boolean> {
    const sends: Promise<unknown>[] = [];
    for (const slot of this.#slots) {
      const messages = slot.device.tick(this.#t_s, 0, true);
      const reading = slot.device.reading();
      for (const message of [...messages.filter((m) => m.topic !== reading.topic), reading])
        sends.push(this.#publish(slot.client, message));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), FINAL_REPORT_TIMEOUT_MS);
    });
    const ok = await Promise.race([Promise.all(sends).then(() => true), timeout]);
    clearTimeout(timer);
    if (!ok) this.#log('broker did not take the final 0 W reports in time');
    return ok;
  }

  /** Logs each new run of the scenario (a looping simulation). */
  #countRun(): void {
    const duration = this.#profiles[0]?.duration_s ?? 0;
    const run = duration > 0 ? Math.floor(this.#t_s / duration) + 1 : 1;
    if (run <= this.#runs) return;
    this.#runs = run;
    if (run > 1) this.#log(`scenario ${this.#options.scenario}: run ${run}`);
  }

  #schedule(): void {
    const speed = this.#options.speed ?? 1;
    const tickMs = Math.max(MIN_TICK_MS, 1000 / speed);
    let last = performance.now();
    const loop = async () => {
      if (this.#state !== 'running') return;
      const now = performance.now();
      const realDt_s = (now - last) / 1000;
      last = now;
      await this.#tickAll(this.#t_s + realDt_s * speed, realDt_s);
      this.#countRun();
      const limit = this.#options.loop
        ? 0
        : (this.#options.durationS ?? this.#profiles[0]?.duration_s ?? 0);
      if (limit > 0 && this.#t_s >= limit) {
        await this.stop();
        return;
      }
      if (this.#state === 'running') this.#timer = setTimeout(loop, tickMs);
    };
    this.#timer = setTimeout(loop, tickMs);
  }

  async #tickAll(t_s: number, realDt_s = 0): Promise<void> {
    const from_s = this.#t_s;
    this.#t_s = t_s;
    const sends: Promise<unknown>[] = [];
    const rate = this.#options.rate ?? null;
    for (const slot of this.#slots) {
      const { power_w, online } = slot.profile.sample(t_s);
      const messages = slot.device.tick(t_s, power_w, online, channelPowers(slot, t_s, power_w));
      // In load mode the rate decides how often readings go out; keep only availability changes.
      const keep = rate === null ? messages : messages.filter((m) => m.retain);
      for (const message of keep) sends.push(this.#publish(slot.client, message));
    }
    if (rate !== null && this.#slots.length > 0) {
      this.#rateBudget += rate * realDt_s;
      while (this.#rateBudget >= 1) {
        this.#rateBudget--;
        const slot = this.#slots[this.#rateCursor++ % this.#slots.length]!;
        sends.push(this.#publish(slot.client, slot.device.reading()));
      }
    }
    // Cards due in (from, t]; the very first tick (t = 0) also takes those at 0.
    for (const p of this.#options.presentations ?? []) {
      const due = p.at_s <= t_s && (p.at_s > from_s || (t_s === 0 && p.at_s === 0));
      if (due) sends.push(this.presentCard(p.reader, p.uid));
    }
    await Promise.all(sends);
  }

  #onCommand(topic: string, payload: string): void {
    if (this.#state !== 'running') return;
    for (const slot of this.#byCommandTopic.get(topic) ?? []) {
      const answers = slot.device.command(topic, payload);
      if (answers.length > 0) this.#pollsAnswered++;
      for (const answer of answers) void this.#publish(slot.client, answer);
    }
  }

  /** Zigbee2MQTT publishes one retained list of all its devices; the simulated plugs share one. */
  async #publishBridgeDevices(): Promise<void> {
    const entries = this.devices.flatMap((d) => (d.bridgeEntry ? [d.bridgeEntry()] : []));
    const client = this.#clients[0];
    if (entries.length === 0 || !client) return;
    const coordinator = {
      ieee_address: '0x00124b0024c2a0f1',
      type: 'Coordinator',
      network_address: 0,
      supported: false,
      friendly_name: 'Coordinator',
      definition: null,
      power_source: null,
      interview_completed: true,
      interviewing: false,
    };
    await this.#publish(client, {
      topic: 'zigbee2mqtt/bridge/devices',
      payload: JSON.stringify([coordinator, ...entries]),
      retain: true,
    });
  }

  async #publish(client: MqttClient, message: SimMessage): Promise<void> {
    if (this.#state === 'new' || this.#state === 'stopped') return;
    this.#published++;
    try {
      await client.publishAsync(message.topic, message.payload, {
        retain: message.retain ?? false,
      });
    } catch (err) {
      this.#log(`publish to ${message.topic} failed: ${(err as Error).message}`);
    }
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }
}

function makeDevice(family: SimFamily, prefix: string, i: number, telePeriod_s: number): SimDevice {
  const n = String(i + 1).padStart(4, '0');
  switch (family) {
    case 'shelly_gen2': {
      // Alternate the two Gen2+ meter layouts: PM Mini Gen3 (pm1:0) and Plus 1PM (switch:0).
      const mini = i % 2 === 0;
      const id = `${prefix}-${mini ? 'shellypmminig3' : 'shellyplus1pm'}-${n}`;
      return new ShellyGen2Device(id, id, mini ? 'pm1:0' : 'switch:0');
    }
    case 'shelly_gen1': {
      const id = `${prefix}-shellyplug-s-${n}`;
      return new ShellyGen1Device(id, id);
    }
    case 'tasmota': {
      const id = `${prefix}-tasmota-${n}`;
      return new TasmotaDevice(id, id, telePeriod_s);
    }
  }
}

/**
 * One power per channel of a multi-channel meter: channel 0 follows the device's profile, channel c
 * the same profile c x 97 s earlier, so the machines on one meter differ and can be told apart.
 */
function channelPowers(slot: Slot, t_s: number, power_w: number): number[] | undefined {
  const channels = slot.device.channels ?? 1;
  if (channels <= 1) return undefined;
  return Array.from({ length: channels }, (_, c) =>
    c === 0 ? power_w : slot.profile.sample(Math.max(0, t_s - c * 97)).power_w,
  );
}

function makeKindDevice(kind: SimKind, prefix: string, i: number, telePeriod_s: number): SimDevice {
  const n = String(i + 1).padStart(4, '0');
  const hex = (i + 1).toString(16).toUpperCase().padStart(6, '0');
  switch (kind) {
    case 'pro4pm':
    case 'plus2pm':
    case 'pro3em':
    case 'emg3': {
      const names = {
        pro4pm: 'shellypro4pm',
        plus2pm: 'shellyplus2pm',
        pro3em: 'shellypro3em',
        emg3: 'shellyemg3',
      };
      return new ShellyGen2Meter(
        `${prefix}-${names[kind]}-a8032a${hex.toLowerCase()}`,
        GEN2_MODELS[kind],
      );
    }
    case 'gen1-3em':
      return new ShellyGen1ThreeEm(`${prefix}-shellyem3-${n}`);
    case 'dualr3':
      return new TasmotaDualR3(`${prefix}-dualr3-${n}`, `94B97E${hex}`, telePeriod_s);
    case 'z2m-plug':
      return new Zigbee2mqttPlug(
        `${prefix}-z2m-plug-${n}`,
        `${prefix} Plug ${n}`,
        `0x00158d0001${hex.toLowerCase()}`,
      );
    case 'esphome':
      return new EsphomeSensor(`${prefix}-esphome-${n}`, `${prefix}-esphome-${n}`);
  }
}

/** Run one scenario to the end (or forever with durationS 0) and return the figures. */
export async function runSimulation(options: SimulatorOptions): Promise<SimStats> {
  const sim = new Simulator(options);
  await sim.start();
  await sim.finished;
  return sim.stats();
}
