/**
 * The worker's error catalogue (STYLE §A5, rule 4). Each entry has a stable `code` equal to its key, a
 * message template (`{name}` placeholders), the JSON-RPC error code used on the wire and the HTTP status
 * used when the error ends an HTTP exchange. Every code is documented in worker/README.md ("Error
 * codes"); a test enforces it. On the wire the stable code travels in `error.data.code`; stack traces
 * never do.
 *
 * `retryable` marks errors of the Odoo link that the sender and the link retry with backoff (transport
 * trouble). Non-retryable Odoo errors are retried too (nothing is ever dropped) but logged as errors,
 * because they need an operator (wrong API key, addon missing).
 */

export interface ErrorDef {
  readonly code: string;
  readonly message: string;
  readonly rpcCode: number;
  readonly httpStatus: number;
  readonly retryable: boolean;
}

const def = <C extends string>(
  code: C,
  message: string,
  rpcCode: number,
  httpStatus: number,
  retryable = false,
) => ({ code, message, rpcCode, httpStatus, retryable }) as const;

export const ERRORS = {
  // --- control API (HTTP + JSON-RPC served by the worker) -------------------------------------------
  UNAUTHORIZED: def('UNAUTHORIZED', 'Missing or invalid bearer token', -32001, 401),
  FORBIDDEN: def('FORBIDDEN', 'The read-only token may not call {method}', -32003, 403),
  PARSE_ERROR: def('PARSE_ERROR', 'Malformed JSON in request body', -32700, 200),
  INVALID_REQUEST: def('INVALID_REQUEST', 'Not a valid JSON-RPC 2.0 request', -32600, 200),
  METHOD_NOT_FOUND: def('METHOD_NOT_FOUND', 'Unknown method {method}', -32601, 200),
  INVALID_PARAMS: def('INVALID_PARAMS', 'Invalid params: {count} field error(s)', -32602, 200),
  INTERNAL_ERROR: def('INTERNAL_ERROR', 'Internal error (see the worker log)', -32603, 500),
  EVENT_INVALID: def(
    'EVENT_INVALID',
    'Built an invalid {type} event for {device_id} (a bug; it is not sent)',
    -32603,
    500,
  ),
  BODY_TOO_LARGE: def('BODY_TOO_LARGE', 'Request body exceeds {limit} bytes', -32600, 413),
  BATCH_TOO_LARGE: def(
    'BATCH_TOO_LARGE',
    'Batch of {count} requests exceeds the limit of {limit}',
    -32600,
    400,
  ),
  NOT_FOUND: def('NOT_FOUND', 'No route for {method} {path}', -32601, 404),
  METHOD_NOT_ALLOWED: def('METHOD_NOT_ALLOWED', '{method} is not allowed on {path}', -32600, 405),
  UNSUPPORTED_MEDIA_TYPE: def(
    'UNSUPPORTED_MEDIA_TYPE',
    'Content-Type must be application/json',
    -32600,
    415,
  ),
  DASHBOARD_NOT_BUILT: def(
    'DASHBOARD_NOT_BUILT',
    'Dashboard not built: run node web/build.mjs',
    -32601,
    404,
  ),
  UNAVAILABLE: def('UNAVAILABLE', 'Service unavailable: {reason}', -32603, 503),
  // --- config ---------------------------------------------------------------------------------------
  CONFIG_INVALID: def('CONFIG_INVALID', 'Invalid config: {count} field error(s)', -32602, 200),
  CONFIG_VERSION_OLDER: def(
    'CONFIG_VERSION_OLDER',
    'Config version {version} is older than the applied version {applied}',
    -32010,
    200,
  ),
  CONFIG_WORKER_MISMATCH: def(
    'CONFIG_WORKER_MISMATCH',
    "Config is for worker '{got}', this worker is '{expected}'",
    -32011,
    200,
  ),
  SETTINGS_INVALID: def('SETTINGS_INVALID', 'Invalid settings: {details}', -32603, 500),
  SETTINGS_OPTION_INVALID: def(
    'SETTINGS_OPTION_INVALID',
    'Invalid command line: {reason}',
    -32603,
    500,
  ),
  SETTINGS_FILE_UNREADABLE: def(
    'SETTINGS_FILE_UNREADABLE',
    'Cannot read settings file {file}: {reason}',
    -32603,
    500,
  ),
  // --- outbox ---------------------------------------------------------------------------------------
  OUTBOX_WRITE_FAILED: def('OUTBOX_WRITE_FAILED', 'Outbox commit failed: {reason}', -32603, 500),
  DEAD_LETTER_NOT_FOUND: def(
    'DEAD_LETTER_NOT_FOUND',
    'No dead letter with id {ids} (nothing was changed)',
    -32012,
    200,
  ),
  // --- calibration (issue 18) ----------------------------------------------------------------------
  DEVICE_NOT_FOUND: def('DEVICE_NOT_FOUND', 'No configured device {device_id}', -32013, 200),
  RECORDING_UNAVAILABLE: def(
    'RECORDING_UNAVAILABLE',
    'The recording is not available on this worker: {reason}',
    -32014,
    200,
  ),
  REPLAY_INPUT_INVALID: def('REPLAY_INPUT_INVALID', '{file}: {reason}', -32602, 200),
  // --- Odoo link (worker -> Odoo) -------------------------------------------------------------------
  ODOO_UNREACHABLE: def('ODOO_UNREACHABLE', 'Odoo unreachable: {reason}', -32603, 502, true),
  ODOO_TIMEOUT: def(
    'ODOO_TIMEOUT',
    'Odoo did not answer within {timeout_ms} ms',
    -32603,
    504,
    true,
  ),
  ODOO_HTTP_ERROR: def('ODOO_HTTP_ERROR', 'Odoo answered HTTP {status}', -32603, 502, true),
  ODOO_UNAUTHORIZED: def(
    'ODOO_UNAUTHORIZED',
    'Odoo refused the API key (HTTP {status})',
    -32603,
    502,
  ),
  ODOO_RPC_ERROR: def('ODOO_RPC_ERROR', 'Odoo JSON-RPC error {rpc_code}: {reason}', -32603, 502),
  ODOO_BAD_RESPONSE: def('ODOO_BAD_RESPONSE', 'Unexpected answer from Odoo: {reason}', -32603, 502),
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

/** An error from the catalogue. `data` is extra wire-safe detail (e.g. field errors). */
export class WorkerError extends Error {
  readonly code: ErrorCode;
  readonly rpcCode: number;
  readonly httpStatus: number;
  readonly retryable: boolean;
  readonly data: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    vars: Record<string, string | number> = {},
    data?: Record<string, unknown>,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    const entry: ErrorDef = ERRORS[code];
    super(format(entry.message, vars), options?.cause ? { cause: options.cause } : undefined);
    this.name = 'WorkerError';
    this.code = code;
    this.rpcCode = entry.rpcCode;
    this.httpStatus = entry.httpStatus;
    this.retryable = options?.retryable ?? entry.retryable;
    this.data = data;
  }

  /** The JSON-RPC error object: message, code and `data.code`; never a stack. */
  toRpcError(): { code: number; message: string; data: Record<string, unknown> } {
    return { code: this.rpcCode, message: this.message, data: { ...this.data, code: this.code } };
  }
}

export const isWorkerError = (e: unknown): e is WorkerError => e instanceof WorkerError;

function format(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    Object.hasOwn(vars, key) ? String(vars[key]) : whole,
  );
}
