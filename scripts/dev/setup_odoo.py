# Setup of a dev/e2e database, run inside `odoo-bin shell` (stdin) by scripts/dev/odoo.ts.
#
# Input: JSON in the environment variable WIOT_SETUP:
#   {"admin_password": "...", "worker": {"uid": "...", "name": "...", "url": "http://..."},
#    "broker": {"name": "...", "embedded": false, "url": "mqtt://...", "username": "...", "password": "..."},
#    "devices": [DeviceConfig, ...]}            # optional machines, e.g. the simulator's
# Output: one line `WIOT_SETUP_RESULT {json}` with the API key and worker token (secrets: the caller
# writes them into the worker settings file, mode 0600, and never logs them).
#
# It does what an admin does in the forms, through the addon's own actions: "Generate Odoo API key"
# (creates the integration user in the worker group) and "Generate worker token". Idempotent: a
# second run (dev-stack --reuse) updates the same records and replaces the API key.
# `env` is provided by `odoo-bin shell`, which rolls back at exit: hence the explicit commit.
import json
import os

setup = json.loads(os.environ["WIOT_SETUP"])

# --- admin: a fresh random password every run (printed once by the caller) ----------------------
admin = env.ref("base.user_admin")  # noqa: F821 (env comes from odoo-bin shell)
admin.password = setup["admin_password"]

# --- broker --------------------------------------------------------------------------------------
Broker = env["workshop.broker"].with_context(active_test=False)  # noqa: F821
b = setup["broker"]
broker_vals = {
    "name": b["name"],
    "active": True,
    "embedded": bool(b.get("embedded")),
    "url": b.get("url") or False,
    "username": b.get("username") or False,
    "password": b.get("password") or False,
    # Short reconnect backoff: a restarted dev broker is picked up within a second or two.
    "reconnect_min_ms": 500,
    "reconnect_max_ms": 5000,
}

# --- worker --------------------------------------------------------------------------------------
Worker = env["workshop.worker"].with_context(active_test=False)  # noqa: F821
w = setup["worker"]
worker = Worker.search([("worker_uid", "=", w["uid"])], limit=1)
if worker:
    # Drop the URL first: config changes below then queue no push to a worker that is not up
    # yet (it pulls the config on worker.hello); the URL is set back at the end without a push.
    worker.write({"url": False, "active": True})
else:
    worker = Worker.create({"name": w["name"], "worker_uid": w["uid"]})

broker = Broker.search([("name", "=", b["name"])], limit=1)
if broker:
    broker.write(broker_vals)
else:
    broker = Broker.create(broker_vals)
worker.write({"broker_id": broker.id, "name": w["name"]})

# --- integration user + API key (replacing the keys of earlier runs) -----------------------------
if worker.user_id:
    env["res.users.apikeys"].sudo().search([("user_id", "=", worker.user_id.id)]).unlink()  # noqa: F821
api_key = worker.action_generate_api_key()["context"]["default_secret"]
worker_token = worker.action_generate_token()["context"]["default_secret"]

# --- machines (optional) -------------------------------------------------------------------------
Device = env["workshop.device"].with_context(active_test=False)  # noqa: F821
device_ids = {}
for d in setup.get("devices", []):
    sc = d["session_config"]
    vals = {
        "name": d["name"], "device_id": d["device_id"], "topic": d["topic"],
        "parser_type": d["parser_type"], "area": d.get("area") or "Simulated",
        "worker_id": worker.id, "active": True,
        "standby_threshold_w": sc["standby_threshold_w"], "working_threshold_w": sc["working_threshold_w"],
        "start_debounce_s": sc["start_debounce_s"], "stop_debounce_s": sc["stop_debounce_s"],
        "message_timeout_s": sc["message_timeout_s"], "heartbeat_interval_s": sc["heartbeat_interval_s"],
    }
    device = Device.search([("device_id", "=", d["device_id"])], order="active desc, id desc", limit=1)
    if device:
        device.write(vals)
    else:
        device = Device.create(vals)
    device_ids[d["device_id"]] = device.id

worker.with_context(workshop_iot_no_push=True).write({"url": w["url"]})
env.cr.commit()  # noqa: F821 (a shell session rolls back otherwise; nothing else runs in it)

print("WIOT_SETUP_RESULT " + json.dumps({
    "admin_login": admin.login,
    "api_key": api_key,
    "worker_token": worker_token,
    "worker_id": worker.id,
    "broker_id": broker.id,
    "integration_login": worker.user_id.login,
    "config_version": worker.config_version,
    "device_ids": device_ids,
}))
