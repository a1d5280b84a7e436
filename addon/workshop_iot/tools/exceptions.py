"""Domain exceptions of the addon, in one place. Retry behaviour sits on the class."""


class RpcException(Exception):
    """Ends one JSON-RPC call with a catalogue error (``tools/rpc_errors.py``), never a stack trace."""

    def __init__(self, error, data=None, **kwargs):
        self.error = error
        self.data = data
        self.message = error.format(**kwargs)
        super().__init__(self.message)


class WorkerCallError(Exception):
    """A call to a worker's JSON-RPC endpoint failed; ``retryable`` says whether trying later can help.

    ``message`` is for people (what happened, what to do); ``detail`` is the technical cause for the
    server log and the debug-only field of the worker form (defaults to the message)."""

    retryable = True

    def __init__(self, message, data=None, detail=None):
        super().__init__(message)
        self.message = message
        self.data = data
        self.detail = detail or message


class WorkerUnreachable(WorkerCallError):
    """Connection refused, timeout, TLS or HTTP 5xx: the same call may succeed later."""

    retryable = True


class WorkerRejected(WorkerCallError):
    """The worker answered with a JSON-RPC error or HTTP 4xx (bad token, invalid config)."""

    # A rejected config is retried with backoff too: the usual cause is a token not yet copied to the
    # worker, which an admin fixes without touching the devices.
    retryable = True


class ConfigInvalid(WorkerCallError):
    """The config Odoo built fails the shared schema; it is never sent. Fix the records, then push."""

    retryable = False
