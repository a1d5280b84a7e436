/** Shapes of the Odoo 18 services the dashboard uses (types only; see addons/bus/static/src/services/bus_service.js). */

export interface OrmService {
  call<T = unknown>(
    model: string,
    method: string,
    args?: unknown[],
    kwargs?: Record<string, unknown>,
  ): Promise<T>;
}

/** `bus_service`: `subscribe` is per notification type; connection events come from the worker. */
export interface BusService {
  subscribe(type: string, callback: (payload: unknown, meta: { id: number }) => void): void;
  unsubscribe(type: string, callback: (payload: unknown, meta: { id: number }) => void): void;
  /** Events: `connect`, `disconnect`, `reconnecting`, `reconnect` (websocket_worker.js). */
  addEventListener(type: string, callback: (ev: CustomEvent) => void): void;
  removeEventListener(type: string, callback: (ev: CustomEvent) => void): void;
  start(): Promise<void>;
}

export interface ActionService {
  doAction(
    action: Record<string, unknown> | string | number,
    options?: Record<string, unknown>,
  ): Promise<void>;
}

export interface OdooServices {
  orm: OrmService;
  bus_service: BusService;
  action: ActionService;
}
