"""Deterministic generator of the shared vectors too large to commit (1 MB strings).

Both test suites use it, so the big documents are exercised by the TS and the Python validator
alike while the repository stays small: shared/test/vectors.test.ts runs this script into a
temporary directory, shared/test/test_generated_validators.py imports it. The output layout is the
one of shared/vectors: <contract>/<valid|invalid>/<name>.json, plus <name>.expected.json (sorted
errors) for invalid vectors.

    python3 shared/vectors/generate_large.py OUT_DIR
"""

import json
import sys
from pathlib import Path

MB = 1024 * 1024

# 8 code points mixing 1-, 2-, 3- and 4-byte UTF-8; the wrench is 1 code point but 2 UTF-16 units,
# so a length counted in UTF-16 units (JS .length) would come out wrong.
_UNIT = "abc-\u00e9\u20ac\U0001f527 "


def megabyte_text() -> str:
    """Exactly 1 MiB of code points."""
    return (_UNIT * (MB // len(_UNIT) + 1))[:MB]


def _session_config() -> dict:
    return {
        "standby_threshold_w": 5,
        "working_threshold_w": 50,
        "start_debounce_s": 10,
        "stop_debounce_s": 30,
        "message_timeout_s": 300,
        "heartbeat_interval_s": 60,
    }


def _worker_config(**device: object) -> dict:
    base = {
        "device_id": "saw-1",
        "name": "Band saw",
        "parser_type": "tasmota",
        "topic": "tasmota_saw1",
        "session_config": _session_config(),
    }
    return {"version": 1, "broker": {"url": None}, "devices": [{**base, **device}]}


def _health(last_error: str) -> dict:
    return {
        "status": "degraded",
        "software_version": "0.1.0",
        "worker_uid": "workshop-worker-1",
        "uptime_s": 10,
        "broker": {"url": "mqtt://broker.local", "embedded": False, "connected": True, "reconnects": 0},
        "devices": 1,
        "subscriptions": 2,
        "outbox": {"depth": 0, "oldest_pending_s": None, "dead_letters": 0},
        "odoo": {"configured": True, "last_ok_at": None, "last_error": last_error},
        "config": {"version": 1, "applied_at": None},
    }


def _error(path: str, message: str) -> dict:
    return {"path": path, "message": message}


def large_vectors() -> dict[str, tuple[object, list[dict] | None]]:
    """'<contract>/<valid|invalid>/<name>' -> (document, expected errors or None when valid)."""
    text = megabyte_text()
    too_long = "must be at most {} characters".format
    with_ca = _worker_config()
    with_ca["broker"]["tls"] = {"ca": "A" * 65536}
    with_big_ca = _worker_config()
    with_big_ca["broker"]["tls"] = {"ca": "A" * 65537}
    extra_key = "k" * MB
    return {
        "worker_config/invalid/large-device-name-1mb": (
            _worker_config(name=text),
            [_error("/devices/0/name", too_long(128))],
        ),
        "worker_config/invalid/large-extra-key-1mb": (
            {**_worker_config(), extra_key: 1},
            [_error("/" + extra_key, "is not an allowed field")],
        ),
        "worker_config/valid/large-tls-ca-at-limit": (with_ca, None),
        "worker_config/invalid/large-tls-ca-over-limit": (
            with_big_ca,
            [_error("/broker/tls/ca", too_long(65536))],
        ),
        "event/invalid/large-device-id-1mb": (
            {
                "event_uid": "01936f8e-7c3a-7b21-9d4e-5f6a7b8c9d0e",
                "type": "device_online",
                "device_id": "d" * MB,
                "worker_uid": "workshop-worker-1",
                "seq": 1,
                "occurred_at": "2026-11-25T12:00:00Z",
                "payload": {"state": "idle", "power_w": None},
            },
            [_error("/device_id", too_long(64))],
        ),
        "health/invalid/large-last-error-1mb": (
            _health(text),
            [_error("/odoo/last_error", too_long(1024))],
        ),
        "events_ingest_params/valid/large-opaque-event-1mb": (
            {"worker_uid": "workshop-worker-1", "events": [{"blob": text}]},
            None,
        ),
    }


def write_all(out_dir: Path) -> list[Path]:
    """Writes every large vector (and its expected file) under out_dir; returns the vector files."""
    written = []
    for key, (document, expected) in large_vectors().items():
        target = out_dir / (key + ".json")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(document, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
        if expected is not None:
            errors = sorted(expected, key=lambda e: (e["path"], e["message"]))
            expected_file = out_dir / (key + ".expected.json")
            expected_file.write_text(json.dumps(errors, indent=2) + "\n", encoding="utf-8")
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: generate_large.py OUT_DIR")
    for path in write_all(Path(sys.argv[1])):
        print(path)
