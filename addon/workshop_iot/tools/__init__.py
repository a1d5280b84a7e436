# ORM-free helpers beside the models (as in mail/tools/): error catalogue, JSON-RPC envelope,
# billing arithmetic, timestamps, the worker client and the post-commit config push.
from . import rpc_errors
