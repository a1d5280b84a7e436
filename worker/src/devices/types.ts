/**
 * Contracts between the worker's modules (not wire contracts: those live in `shared/`).
 * MQTT -> parser -> `DeviceInput` -> device registry (one XState actor per device) -> `EventSink`.
 */
import type { DeviceLiveState, WorkshopEvent } from '@workshop-iot/shared';

/** What a parser extracted from one MQTT message, handed to the device's actor. */
export type DeviceInput =
  /**
   * A power reading; `energy_wh` is the meter's running total when it reports one. `at` (epoch ms)
   * is the device's own time when the payload carries one (a reading the broker queued while the
   * worker was away); without it the registry uses the arrival time.
   */
  | { kind: 'reading'; power_w: number; energy_wh: number | null; at?: number }
  /** The device's own availability (LWT / online topic / NotifyStatus). */
  | { kind: 'availability'; online: boolean }
  /** Any other valid message from the device: proves it is alive, carries no power. */
  | { kind: 'alive' };

/**
 * Where produced events go. `write` is synchronous on purpose: when it returns, the event is durable
 * (the SQLite outbox commits before returning), so nothing that depends on the event runs before it
 * is safe. A logging sink stands in until the outbox is wired.
 */
export interface EventSink {
  write(event: WorkshopEvent): void;
}

/** Receives live state changes of devices (for worker.status pushes, the dashboard and /health). */
export type LiveStateListener = (state: DeviceLiveState) => void;
