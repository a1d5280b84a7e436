/**
 * What the dashboard needs from a backend, and nothing more (STYLE rule 10: the UI gets all data
 * through this interface). Implementations: Odoo (ORM + bus), worker (HTTP + Server-Sent Events),
 * and a scripted fake for tests.
 */
import type { DashboardMachine } from './machine.ts';

export type MachineListener = (machine: DashboardMachine) => void;

/**
 * `online: false` when the live channel dropped; `online: true` when it is back. After an
 * offline -> online transition updates may have been missed, so the consumer reloads the list.
 */
export type ConnectionListener = (online: boolean) => void;

/** Signals that the set of machines changed (added/removed/renamed): reload the whole list. */
export type ReloadListener = () => void;

export interface DataSource {
  /** The full list of machines with their current state. */
  listMachines(): Promise<DashboardMachine[]>;
  /** Live updates, one machine dict at a time. Returns the unsubscribe function. */
  subscribe(listener: MachineListener): () => void;
  /** Connection of the live channel. Returns the unsubscribe function. */
  onConnectionChange(listener: ConnectionListener): () => void;
  /** Optional: the backend asks for a full reload. Returns the unsubscribe function. */
  onReload?(listener: ReloadListener): () => void;
}
