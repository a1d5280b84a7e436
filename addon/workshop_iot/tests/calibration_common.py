"""An ``analysis.run`` answer (shared/src/contracts/analysis.ts) for the calibration tests and tour,
shaped after the params it answers. Decouples them from the worker's analysis."""

PROPOSED = {"standby_threshold_w": 12.0, "working_threshold_w": 180.0, "start_debounce_s": 20,
            "stop_debounce_s": 60, "message_timeout_s": 600, "heartbeat_interval_s": 60}
CURRENT = {"standby_threshold_w": 5.0, "working_threshold_w": 50.0, "start_debounce_s": 10,
           "stop_debounce_s": 30, "message_timeout_s": 600, "heartbeat_interval_s": 60}


def replayed(start, end, working_s, standby_s, reason="power_off"):
    total = working_s + standby_s
    return {"started_at": start, "ended_at": end, "reason": reason, "working_s": working_s,
            "standby_s": standby_s, "total_s": total, "energy_wh": None if end is None else 120.5}


def analysis_result(params, current=None):
    """Current settings: three short sessions (1000 s, 300 s, open 100 s working); proposed (or the
    candidate): one long session of 2000 s working + 400 s standby. With a 15 min unit rounded up
    on working time: 2 + 1 + 1 = 4 units against 3 units."""
    proposed = params.get("candidate") or PROPOSED
    return {
        "device_id": params["device_id"], "from": params["from"], "to": params["to"],
        "readings": 5400,
        "first_reading_at": "2026-12-01T08:00:00.000Z", "last_reading_at": "2026-12-01T16:00:00.000Z",
        "histogram": [
            {"from_w": 0.0, "to_w": 2.0, "count": 3000, "seconds": 18000.0},
            {"from_w": 2.0, "to_w": 20.0, "count": 900, "seconds": 3600.0},
            {"from_w": 20.0, "to_w": 200.0, "count": 300, "seconds": 1200.0},
            {"from_w": 200.0, "to_w": 2000.0, "count": 1200, "seconds": 6000.0},
        ],
        "clusters": [
            {"role": "off", "center_w": 0.4, "low_w": 0.0, "high_w": 1.5, "share": 0.62},
            {"role": "standby", "center_w": 8.0, "low_w": 4.0, "high_w": 15.0, "share": 0.13},
            {"role": "working", "center_w": 900.0, "low_w": 300.0, "high_w": 1500.0, "share": 0.25},
        ],
        "proposed_config": PROPOSED,
        "explanation": ["Standby threshold between the off level (0.4 W) and standby (8 W).",
                        "Start debounce covers the 15 s spikes seen at switch-on."],
        "current": {"session_config": current or CURRENT, "sessions_omitted": 0, "sessions": [
            replayed("2026-12-01T08:00:00.000Z", "2026-12-01T08:20:00.000Z", 1000.0, 200.0),
            replayed("2026-12-01T09:00:00.000Z", "2026-12-01T09:06:00.000Z", 300.0, 60.0),
            replayed("2026-12-01T15:58:00.000Z", None, 100.0, 20.0, reason="open"),
        ]},
        "proposed": {"session_config": proposed, "sessions_omitted": 0, "sessions": [
            replayed("2026-12-01T08:00:00.000Z", "2026-12-01T08:40:00.000Z", 2000.0, 400.0),
        ]},
    }
