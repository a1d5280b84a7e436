"""The synthetic event stream of the Odoo benches (odoo-ingest, maintenance-fold): per machine a
session of start, 29 heartbeats and stop, the machines interleaved, timestamps a millisecond apart
ending about two minutes ago, as a worker would send them."""
import uuid
from datetime import datetime, timedelta, timezone

BEATS_PER_SESSION = 30


def ts(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)


def session_events(worker_uid, count, devices, seq_start=0, energy_per_beat_wh=None):
    """``count`` events for machines ``bench-00`` .. ``bench-<devices-1>``, their seqs continuing
    from ``seq_start``; energies ``energy_per_beat_wh`` per heartbeat (None: a meter without a
    counter). Returns the events and the highest seq used."""
    now = datetime.now(timezone.utc) - timedelta(seconds=120)
    seqs = dict.fromkeys(range(devices), seq_start)
    sessions, out, step = {}, [], 0

    def energy(beats):
        return None if energy_per_beat_wh is None else energy_per_beat_wh * beats

    while len(out) < count:
        device = step % devices
        step += 1
        seqs[device] += 1
        at = now + timedelta(milliseconds=step)
        session = sessions.get(device)
        if session is None:
            session = sessions[device] = {"id": str(uuid.uuid4()), "start": at, "beats": 0}
            kind, payload = "session_started", {"session_id": session["id"], "started_at": ts(at),
                                                "state": "working", "power_w": 420.0}
        else:
            session["beats"] += 1
            worked = 60.0 * session["beats"]
            common = {"session_id": session["id"], "started_at": ts(session["start"]),
                      "working_s": worked * 5 / 6, "standby_s": worked / 6, "total_s": worked}
            if session["beats"] < BEATS_PER_SESSION:
                kind, payload = "session_heartbeat", dict(
                    common, interval_start=ts(at - timedelta(seconds=60)), interval_end=ts(at),
                    interval_working_s=50.0, interval_standby_s=10.0, state="working", power_w=410.0,
                    interval_energy_wh=energy(1), energy_wh=energy(session["beats"]))
            else:
                kind, payload = "session_stopped", dict(common, ended_at=ts(at), reason="power_off",
                                                        energy_wh=energy(session["beats"]))
                sessions[device] = None
        out.append({"event_uid": str(uuid.uuid4()), "type": kind, "device_id": "bench-%02d" % device,
                    "worker_uid": worker_uid, "seq": seqs[device], "occurred_at": ts(at), "payload": payload})
    return out, max(seqs.values())
