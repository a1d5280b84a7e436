/**
 * Composition root: builds every module, starts them in order and stops them in reverse.
 *
 * Start: settings -> data dir -> stored config -> outbox -> device registry (restores snapshots) ->
 * ingest -> embedded broker (when broker.url is null) -> MQTT -> HTTP -> Odoo link.
 * Stop: MQTT (no more intake) -> Odoo link -> registry (closes sessions only when
 * `close_sessions_on_shutdown`) -> sender flush within a deadline -> HTTP -> embedded broker -> DB.
 *
 * Nothing here needs Odoo or a broker to be reachable: both are retried in the background.
 *
 * Slightly longer than 400 lines on purpose (STYLE rule 1): the whole start/stop order and every wire
 * between modules read in one place; each feature's logic stays in its own file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrokerConfig, DeviceLiveState, Health } from '@workshop-iot/shared';
import { BadgeReaders } from './badges/badge-readers.ts';
import { ConfigManager } from './config/apply.ts';
import {
  type LoadOptions,
  loadSettings,
  type ResolvedSettings,
  unknownEnv,
} from './config/load.ts';
import { ConfigStore } from './config/store.ts';
import { DeviceRegistry } from './devices/registry.ts';
import type { LiveStateListener } from './devices/types.ts';
import { Discovery } from './discovery/discovery.ts';
import { DiscoveryReporter } from './discovery/reporter.ts';
import { DiscoveryStore } from './discovery/store.ts';
import { resolveAdminToken, TokenAuth } from './http/auth.ts';
import { buildHealth, registerHealthRoute } from './http/health.ts';
import { registerMetricsRoute, WorkerMetrics } from './http/metrics.ts';
import { RpcDispatcher } from './http/rpc.ts';
import { registerAnalysisMethods } from './http/rpc-analysis.ts';
import { registerDeadLetterMethods } from './http/rpc-deadletters.ts';
import { registerControlMethods } from './http/rpc-methods.ts';
import { HttpServer } from './http/server.ts';
import { WorkerDashboard } from './http/worker-dashboard.ts';
import { createLogger, type Logger } from './log.ts';
import { availabilityTopic, MachineSummaries, statusPrefix } from './mqtt/availability.ts';
import { brokerEventsTo } from './mqtt/broker-events.ts';
import { clientIdFor, MqttConnection, type ResolvedBrokerConfig, safeUrl } from './mqtt/client.ts';
import type { EmbeddedBroker } from './mqtt/embedded-broker.ts';
import { Ingest } from './mqtt/ingest.ts';
import { OdooLink } from './odoo/link.ts';
import { type OdooApi, OdooRpcClient } from './odoo/rpc-client.ts';
import { serializeOdooCalls } from './odoo/serial.ts';
import { epochMs, traceOdooCalls } from './odoo/trace.ts';
import { Outbox } from './outbox/outbox.ts';
import { Sender } from './outbox/sender.ts';
import { RecordingStore } from './recording/store.ts';
import type { RecordingReader } from './recording/types.ts';
import { writeFileAtomic } from './util/atomic-file.ts';
import { VERSION } from './version.ts';

export interface AppOptions extends LoadOptions {
  /** Replaces the logger built from settings (tests). */
  log?: Logger;
  /** Where the generated token is printed once; default process.stderr. */
  stderr?: NodeJS.WritableStream;
  /** Sender flush deadline on stop (default 5 s). */
  flushDeadlineMs?: number;
  /**
   * What `analysis.run` reads instead of the worker's own recording store (tests: an in-memory
   * recording). Absent: the store; null, or the store off: the method answers RECORDING_UNAVAILABLE.
   */
  recording?: RecordingReader | null;
}

export class App {
  readonly startedAtMs = Date.now();
  readonly settings: ResolvedSettings;
  readonly log: Logger;
  readonly workerUid: string;
  readonly configs: ConfigManager;
  readonly outbox: Outbox;
  /** Every machine's inputs, bounded (null when `recording.enabled` is false or the file failed). */
  readonly recording: RecordingStore | null;
  readonly registry: DeviceRegistry;
  readonly badges: BadgeReaders;
  /** What `analysis.run` replays: options.recording when given, else the store (null: unavailable). */
  readonly #analysisSource: RecordingReader | null;
  readonly ingest: Ingest;
  readonly mqtt: MqttConnection;
  readonly http: HttpServer;
  readonly metrics: WorkerMetrics;
  /** Retained per-machine summaries on the broker (null unless `mqtt_status.machine_summaries`). */
  readonly summaries: MachineSummaries | null;
  readonly odoo: OdooRpcClient | null;
  /** The Odoo client as the sender and link use it: one call at a time (see odoo/serial.ts). */
  private readonly odooLane: OdooApi | null;
  readonly sender: Sender;
  /** Meters announcing themselves (null when `discovery.enabled` is false). */
  readonly discovery: Discovery | null;
  readonly discoveryStore: DiscoveryStore | null;
  private readonly discoveryReporter: DiscoveryReporter | null;
  private link: OdooLink | null = null;
  private embedded: EmbeddedBroker | null = null;
  private readonly liveListeners = new Set<LiveStateListener>();
  private dashboard: WorkerDashboard | null = null;
  private stopping: Promise<void> | null = null;

  /** Builds and starts the worker. Throws only for bad settings or an unusable data dir / port. */
  static async start(options: AppOptions = {}): Promise<App> {
    const settings = loadSettings(options);
    const log = options.log ?? createLogger({ level: settings.log_level });
    const app = new App(settings, log, options);
    try {
      await app.startNetwork();
    } catch (err) {
      await app.stop();
      throw err;
    }
    return app;
  }

  private constructor(
    settings: ResolvedSettings,
    log: Logger,
    private readonly options: AppOptions,
  ) {
    this.settings = settings;
    this.log = log;
    for (const name of unknownEnv(options.env ?? process.env))
      log.warn({ env: name }, 'Unknown WORKSHOP_IOT_ variable ignored (typo?)');
    fs.mkdirSync(settings.data_dir, { recursive: true, mode: 0o700 });
    this.workerUid = settings.worker_uid ?? persistentWorkerUid(settings.data_dir);
    // The stored config is loaded before anything else is built: every module starts on it.
    const store = new ConfigStore({ dir: settings.data_dir, log: log.child({ module: 'config' }) });
    const stored = store.load();
    this.configs = new ConfigManager({
      initial: stored?.config ?? settings.config,
      appliedAt: stored?.applied_at ?? null,
      store,
      workerUid: this.workerUid,
      log: log.child({ module: 'config' }),
    });
    const config = this.configs.current().config;
    this.outbox = new Outbox({
      dir: settings.data_dir,
      log: log.child({ module: 'outbox' }),
      maxEvents: settings.outbox.max_events,
      onCommitted: (events) => {
        // For the latency benches (scripts/bench/e2e-latency.ts): built only at level debug.
        if (log.isLevelEnabled('debug'))
          log.debug(
            {
              trace: 'outbox_committed',
              at_ms: epochMs(),
              events: events.map((e) => [e.event_uid, e.occurred_at]),
            },
            'Outbox group committed',
          );
        this.dashboard?.recordEvents(events);
        this.metrics?.eventsCommitted(events.map((e) => e.type));
        this.sender?.wake();
      },
    });
    this.recording = openRecording(settings, log.child({ module: 'recording' }));
    this.#analysisSource =
      options.recording !== undefined ? options.recording : (this.recording ?? null);
    this.registry = new DeviceRegistry({
      workerUid: this.workerUid,
      store: this.outbox,
      ...(this.recording ? { recorder: this.recording } : {}),
      // Real timers, passed explicitly: the actors' delays (debounces, timeouts) run on them.
      xstateClock: {
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (id) => clearTimeout(id),
      },
      log: log.child({ module: 'devices' }),
      onLiveState: (state: DeviceLiveState) => this.emitLiveState(state),
      onPoll: (deviceId: string) => this.poll(deviceId),
      // The persistent MQTT session delivers what meters published while the worker was down.
      backlog: true,
    });
    this.registry.apply(config.devices);
    this.badges = new BadgeReaders({
      workerUid: this.workerUid,
      store: this.outbox,
      log: log.child({ module: 'badges' }),
    });
    this.badges.apply(config.badge_readers ?? []);
    this.ingest = new Ingest({
      onInput: (deviceId, input, meta) => this.registry.input(deviceId, input, meta),
      onCard: (readerId, card) => this.badges.present(readerId, card),
      log,
    });
    this.ingest.setDevices(config.devices);
    const filters = this.ingest.setBadgeReaders(config.badge_readers ?? []);
    const toRegistry = brokerEventsTo(this.registry);
    const status = settings.mqtt_status;
    const prefix = statusPrefix(status.prefix, this.workerUid);
    this.mqtt = new MqttConnection({
      // The worker's own `<prefix>/status` (online / offline, last will): see mqtt/availability.ts.
      ...(status.enabled ? { availability: availabilityTopic(prefix) } : {}),
      broker: this.resolveBroker(config.broker, this.embeddedUrl()),
      onMessage: (topic, payload, retained) => this.onMessage(topic, payload, retained),
      devicesFor: (topic) => this.ingest.devicesFor(topic),
      // Stable per worker: the broker keeps the session (and the meters' readings) across restarts.
      defaultClientId: clientIdFor(this.workerUid),
      // Liveness pauses while the broker is unreachable; every meter is polled once connected.
      onEvent: (event) => {
        toRegistry(event);
        if (event.type === 'connected') this.summaries?.connected();
        if (event.type === 'ready') this.discovery?.connected();
      },
      log,
    });
    this.summaries = status.machine_summaries
      ? new MachineSummaries({
          prefix,
          minIntervalMs: status.summary_min_interval_s * 1000,
          publish: (topic, payload, opts) => this.mqtt.publish(topic, payload, opts),
          liveState: (deviceId) => this.registry.liveState(deviceId),
          log: log.child({ module: 'summaries' }),
        })
      : null;
    this.summaries?.setMachines(config.devices);
    this.metrics = new WorkerMetrics(this.metricsSources(), settings.metrics.max_machine_series);
    this.http = this.buildHttp();
    this.odoo = settings.odoo.url
      ? new OdooRpcClient({
          url: settings.odoo.url,
          apiKey: settings.odoo.api_key,
          timeoutMs: settings.odoo.timeout_ms,
        })
      : null;
    // Debug-level call timings on both sides of the lane (odoo/trace.ts): asked for, then sent.
    const odooLog = log.child({ module: 'odoo' });
    this.odooLane = this.odoo
      ? traceOdooCalls(
          serializeOdooCalls(traceOdooCalls(this.odoo, odooLog, 'sent')),
          odooLog,
          'requested',
        )
      : null;
    if (settings.discovery.enabled) {
      const lane = this.odooLane;
      this.discoveryStore = new DiscoveryStore();
      this.discoveryReporter = new DiscoveryReporter({
        store: this.discoveryStore,
        report: lane
          ? (meters) => lane.discoveryReport({ worker_uid: this.workerUid, meters })
          : null,
        log: log.child({ module: 'discovery' }),
      });
      this.discovery = new Discovery({
        store: this.discoveryStore,
        reporter: this.discoveryReporter,
        publish: (topic, payload) => this.mqtt.publish(topic, payload),
        log: log.child({ module: 'discovery' }),
      });
    } else {
      this.discoveryStore = null;
      this.discoveryReporter = null;
      this.discovery = null;
    }
    this.mqtt.setSubscriptions(this.wantedFilters(filters));
    this.sender = new Sender({
      outbox: this.outbox,
      odoo: this.odooLane,
      workerUid: this.workerUid,
      log: log.child({ module: 'sender' }),
      batchSize: settings.odoo.batch_size,
      lingerMs: settings.odoo.linger_ms,
      onBatch: ({ seconds, ok }) => this.metrics.batchSent(seconds, ok),
      onSettled: ({ acked }) => this.metrics.delivered(acked),
    });
    this.configs.addTarget({
      name: 'devices',
      apply: (next) => {
        this.registry.apply(next.devices);
      },
    });
    this.configs.addTarget({
      name: 'badge readers',
      apply: (next) => {
        const changes = this.badges.apply(next.badge_readers ?? []);
        if (changes.added.length + changes.updated.length + changes.removed.length > 0)
          log.info({ version: next.version, ...changes }, 'Badge readers applied');
      },
    });
    this.configs.addTarget({
      name: 'subscriptions',
      apply: (next) => {
        this.ingest.setDevices(next.devices);
        const topics = this.ingest.setBadgeReaders(next.badge_readers ?? []);
        this.mqtt.setSubscriptions(this.wantedFilters(topics));
      },
    });
    this.configs.addTarget({
      name: 'machine summaries',
      apply: (next) => this.summaries?.setMachines(next.devices),
    });
    this.configs.addTarget({
      name: 'dashboard',
      apply: (_next, changes) => this.dashboard?.configChanged(changes),
    });
    this.configs.addTarget({
      name: 'broker',
      apply: (next, changes) =>
        changes.broker_changed ? this.switchBroker(next.broker) : undefined,
    });
  }

  private async startNetwork(): Promise<void> {
    const config = this.configs.current().config;
    if (config.broker.url === null) await this.startEmbedded();
    this.recording?.start();
    this.mqtt.start();
    const address = await this.http.start();
    this.sender.start();
    if (this.odooLane) {
      this.link = new OdooLink({
        odoo: this.odooLane,
        log: this.log.child({ module: 'odoo' }),
        workerUid: this.workerUid,
        softwareVersion: VERSION,
        httpUrl: this.settings.http.public_url ?? publicUrl(this.settings.http.host, address.port),
        hostname: os.hostname(),
        startedAt: new Date(this.startedAtMs).toISOString(),
        statusIntervalS: this.settings.odoo.status_interval_s,
        configVersion: () => this.configs.version,
        applyConfig: (c) => this.configs.apply(c, 'hello'),
        liveStates: () => this.registry.liveStates(),
        health: () => this.healthSummary(),
      });
      this.link.start();
    }
    this.log.info(
      {
        version: VERSION,
        worker_uid: this.workerUid,
        settings_file: this.settings.source.file,
        env: this.settings.source.env,
        data_dir: this.settings.data_dir,
        http: `http://${this.settings.http.host}:${address.port}`,
        broker: this.mqtt.status().url,
        embedded_broker: this.embedded !== null,
        odoo: this.odoo?.endpoint ?? 'not configured',
        devices: config.devices.length,
        config_version: config.version,
        outbox_depth: this.outbox.depth(),
      },
      'Workshop IoT worker started',
    );
  }

  /** Stops everything in reverse order; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    const log = this.log;
    const step = async (name: string, fn: () => unknown) => {
      try {
        await fn();
      } catch (err) {
        log.error({ err, step: name }, 'Shutdown step failed');
      }
    };
    this.summaries?.stop();
    // Publishes the retained `offline` before its DISCONNECT (the broker then drops the will).
    await step('mqtt', () => this.mqtt.stop());
    await step('odoo link', () => this.link?.stop());
    await step('discovery', () => this.discoveryReporter?.stop());
    const closeSessions = this.configs.current().config.close_sessions_on_shutdown === true;
    await step('devices', () => this.registry.stop({ closeSessions }));
    await step('outbox flush', () => this.outbox.flush());
    await step('recording', () => this.recording?.stop());
    await step('sender', () => this.sender.stop(this.options.flushDeadlineMs ?? 5000));
    await step('dashboard streams', () => this.dashboard?.stop());
    await step('http', () => this.http.stop());
    await step('embedded broker', () => this.embedded?.stop());
    await step('outbox close', () => this.outbox.close());
    log.info({ outbox_depth: this.outbox.depth() }, 'Workshop IoT worker stopped');
  }

  /** Subscribe to live state changes (dashboard SSE). Returns the unsubscribe function. */
  onLiveState(listener: LiveStateListener): () => void {
    this.liveListeners.add(listener);
    return () => this.liveListeners.delete(listener);
  }

  health(): Health {
    const broker = this.mqtt.status();
    return buildHealth({
      workerUid: this.workerUid,
      startedAtMs: this.startedAtMs,
      broker: () => ({
        url: broker.url,
        embedded: this.embedded !== null && this.configs.current().config.broker.url === null,
        connected: broker.connected,
        reconnects: broker.reconnects,
        failed_subscriptions: broker.failed_subscriptions,
      }),
      devices: () => this.configs.current().config.devices.length,
      badgeReaders: () => this.badges.size,
      subscriptions: () => broker.subscriptions,
      outbox: this.outbox,
      odoo: () => ({
        configured: this.odoo !== null,
        last_ok_at: this.odoo?.lastOkAt ?? null,
        last_error: this.odoo?.lastError ?? null,
        failures: this.sender.failures(),
      }),
      config: () => ({
        version: this.configs.version,
        applied_at: this.configs.current().applied_at,
      }),
    });
  }

  private healthSummary() {
    const h = this.health();
    return {
      status: h.status,
      broker_connected: h.broker.connected,
      outbox_depth: h.outbox.depth,
      oldest_pending_s: h.outbox.oldest_pending_s,
      dead_letters: h.outbox.dead_letters,
      uptime_s: h.uptime_s,
      software_version: h.software_version,
    };
  }

  private buildHttp(): HttpServer {
    const { http: s, data_dir } = this.settings;
    const token = resolveAdminToken(s.token, data_dir);
    if (token.generated) {
      // Printed once, on stderr, never logged: the log may be shipped elsewhere.
      (this.options.stderr ?? process.stderr).write(
        `\nWorkshop IoT worker: generated control API token (stored in ${token.file}, shown once):\n  ${token.token}\n\n`,
      );
    }
    const auth = new TokenAuth(token.token, s.read_token);
    const rpc = new RpcDispatcher({ log: this.log.child({ module: 'rpc' }) });
    registerControlMethods(rpc, {
      applyConfig: (c) => this.configs.apply(c, 'rpc'),
      getConfig: () => this.configs.current(),
      health: () => this.health(),
    });
    registerDeadLetterMethods(rpc, this.outbox, () => this.sender.wake());
    registerAnalysisMethods(rpc, {
      devices: () => this.configs.current().config.devices,
      recording: this.#analysisSource,
    });
    const server = new HttpServer({
      host: s.host,
      port: s.port,
      maxBodyBytes: s.max_body_bytes,
      auth,
      rpc,
      log: this.log.child({ module: 'http' }),
    });
    registerHealthRoute(server, () => this.health());
    registerMetricsRoute(server, this.metrics);
    this.dashboard = new WorkerDashboard({
      config: () => this.configs.current().config,
      liveState: (deviceId) => this.registry.liveState(deviceId),
      auth,
    });
    this.dashboard.register(server);
    return server;
  }

  private metricsSources() {
    return {
      mqtt: () => {
        const stats = this.ingest.stats();
        const status = this.mqtt.status();
        return {
          messages: stats.messages,
          parse_errors: stats.parse_errors,
          reconnects: status.reconnects,
          connected: status.connected,
        };
      },
      outbox: () => ({
        depth: this.outbox.depth(),
        oldest_pending_ms: this.outbox.oldestPendingMs(),
        dead_letters: this.outbox.deadLetterCount(),
        over_cap: this.outbox.overCap(),
      }),
      configVersion: () => this.configs.version,
      machines: () => this.registry.liveStates(),
      discovery: () =>
        this.discovery && this.discoveryStore && this.discoveryReporter
          ? {
              meters: this.discoveryStore.size,
              invalid: this.discovery.stats().invalid,
              reported: this.discoveryReporter.stats().sent,
            }
          : null,
    };
  }

  private emitLiveState(state: DeviceLiveState): void {
    this.link?.liveStateChanged(state);
    this.summaries?.changed(state.device_id);
    this.dashboard?.liveStateChanged(state);
    for (const listener of this.liveListeners) {
      try {
        listener(state);
      } catch (err) {
        this.log.error({ err }, 'Live state listener failed');
      }
    }
  }

  /** The meters' exact topics plus, with discovery on, its announcement filters. */
  private wantedFilters(deviceTopics: Set<string>): Set<string> {
    if (!this.discovery) return deviceTopics;
    return new Set([...deviceTopics, ...this.discovery.filters()]);
  }

  /**
   * One MQTT message: to discovery when it is an announcement, to the meters' intake when a
   * configured device uses the topic (a configured Shelly's `<t>/online` goes to both). A topic
   * neither knows is counted by intake as before.
   */
  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    const announcement = this.discovery?.matches(topic) === true;
    if (announcement) this.discovery?.handle(topic, payload);
    if (!announcement || this.ingest.devicesFor(topic).length > 0)
      this.ingest.handle(topic, payload, retained);
  }

  /** Returns false when the device's parser cannot poll: the registry then goes offline on silence. */
  private poll(deviceId: string): boolean {
    const request = this.ingest.pollRequest(deviceId);
    if (request) void this.mqtt.publish(request.topic, request.payload);
    return request !== null;
  }

  /** The broker the client connects to: the embedded one (with its login) when `url` is null. */
  private resolveBroker(broker: BrokerConfig, embeddedUrl: string): ResolvedBrokerConfig {
    if (broker.url !== null) return { ...broker, url: broker.url };
    const { username, password } = this.settings.embedded_broker;
    return { ...broker, url: embeddedUrl, ...(username && password ? { username, password } : {}) };
  }

  private embeddedUrl(): string {
    const { host, port } = this.settings.embedded_broker;
    return `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  private async startEmbedded(): Promise<void> {
    if (this.embedded) return;
    // Loaded only when used: a worker beside its own broker (mosquitto) never needs aedes.
    const { EmbeddedBroker } = await import('./mqtt/embedded-broker.ts');
    const broker = new EmbeddedBroker({ ...this.settings.embedded_broker, log: this.log });
    try {
      await broker.start();
      this.embedded = broker;
    } catch (err) {
      // Another process holds the port: the MQTT client keeps trying the URL and health says so.
      this.log.error({ err, url: this.embeddedUrl() }, 'Embedded MQTT broker could not start');
    }
  }

  /** Broker switch without restart, e.g. embedded -> external: connect to the new one first. */
  private async switchBroker(broker: BrokerConfig): Promise<void> {
    if (broker.url === null) {
      await this.startEmbedded();
      this.mqtt.setBroker(this.resolveBroker(broker, this.embedded?.url ?? this.embeddedUrl()));
      return;
    }
    this.mqtt.setBroker({ ...broker, url: broker.url });
    const embedded = this.embedded;
    this.embedded = null;
    await embedded?.stop();
    this.log.info({ url: safeUrl(broker.url) }, 'Switched to an external MQTT broker');
  }
}

/**
 * The recording, when on. It is diagnostic: a file that cannot be opened (damaged, another format)
 * is logged and the worker runs without it rather than not at all.
 */
function openRecording(settings: ResolvedSettings, log: Logger): RecordingStore | null {
  const { enabled, max_days, max_mb_per_machine } = settings.recording;
  if (!enabled) return null;
  try {
    return new RecordingStore({
      dir: settings.data_dir,
      log,
      maxDays: max_days,
      maxBytesPerMachine: Math.round(max_mb_per_machine * 1024 * 1024),
    });
  } catch (err) {
    log.error({ err }, 'Recording unavailable: the worker runs without it');
    return null;
  }
}

/** A stable worker uid for installations that did not set one: generated once, kept in data_dir. */
function persistentWorkerUid(dataDir: string): string {
  const file = path.join(dataDir, 'worker-uid');
  try {
    const uid = fs.readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(uid)) return uid;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const host = os
    .hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 40);
  const uid = `${host || 'worker'}-${Math.random().toString(16).slice(2, 8)}`;
  writeFileAtomic(file, `${uid}\n`, 0o644);
  return uid;
}

/** The URL Odoo can reach us at; unknown when bound to a wildcard address (set http.public_url). */
function publicUrl(host: string, port: number): string | null {
  if (host === '0.0.0.0' || host === '::') return null;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
