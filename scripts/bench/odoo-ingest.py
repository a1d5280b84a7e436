#!/usr/bin/python3
"""Benchmark: events/s through ``events.ingest`` vs the same rows created by one ORM ``create()``,
and events/s of the fold cron that applies them to sessions afterwards.

Run with Debian's python3 (it imports Odoo for the setup and the ORM baseline):

    /usr/bin/python3 scripts/bench/odoo-ingest.py            # ODOO_SRC defaults to /opt/odoo18
    /usr/bin/python3 scripts/bench/odoo-ingest.py --events 20000 --keep-db

It creates a throwaway database with workshop_iot, an integration user with a real API key, a
worker and 20 machines; starts ``odoo-bin`` (threaded server) on a free port; posts realistic
session streams (start, heartbeats, stop per machine) in batches of 100 and 1,000 over HTTP; then
creates the same number of ``workshop.event`` rows with a single ``create()`` call in one
transaction (rolled back). The server runs without cron threads, so the ingest phase measures the
request alone; after it, the fold cron is run in this process (``method_direct_trigger``), one
chunk of the batch size per run and transaction, until none is pending: the fold rate, so that a
backlog cannot hide behind a fast ingest. Prints a table, then the ``BENCH_RESULT`` line of ``npm run bench``
(scripts/bench/result.ts); target: >= 1,000 events/s and ingest/ORM >= 0.5 for both batch sizes.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime

from odoo_bench_db import install_and_open  # beside this script (its folder is on sys.path)
from odoo_bench_events import session_events

DEVICES = 20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--odoo-src", default=os.environ.get("ODOO_SRC", "/opt/odoo18"))
    parser.add_argument("--db", default="wiot_bench_%d" % os.getpid())
    parser.add_argument("--events", type=int, default=10000, help="events per batch size")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--no-timings", action="store_true",
                        help="run Odoo without WORKSHOP_IOT_RPC_TIMINGS=1 (no per-phase breakdown)")
    parser.add_argument("--db-filter", action="store_true",
                        help="also pass --db-filter=^db$ (the deployment before; every request then lists databases)")
    return parser.parse_args()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_database(args):
    """Install the addon, then create the integration user, its API key, a worker and machines."""
    paths, registry = install_and_open(args.odoo_src, args.db, "workshop_iot")
    from odoo import api, SUPERUSER_ID
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        user = env["res.users"].create({"name": "Bench worker", "login": "bench-worker", "groups_id": [
            (6, 0, [env.ref("workshop_iot.workshop_iot_group_worker").id])]})
        key = env["res.users.apikeys"].with_user(user).sudo()._generate(None, "bench", None)
        worker = env["workshop.worker"].create({"name": "Bench", "worker_uid": "wk-bench", "user_id": user.id})
        env["workshop.device"].create([{"name": "Machine %02d" % i, "device_id": "bench-%02d" % i,
                                        "topic": "bench/%02d" % i, "worker_id": worker.id} for i in range(DEVICES)])
        cr.postcommit.clear()  # no worker URL: nothing to push
    return paths, registry, key


def start_server(args, paths, port):
    # Like docker-compose.yaml: -d alone exposes only that database, so no request lists databases.
    extra = ["--db-filter=^%s$" % args.db] if args.db_filter else []
    # Per-phase timings in a Server-Timing header (tools/rpc_timings.py): a few perf_counter() calls
    # per request; --no-timings measures without them.
    env = dict(os.environ, WORKSHOP_IOT_RPC_TIMINGS="0" if args.no_timings else "1")
    proc = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(args.odoo_src, "odoo-bin"), "-d", args.db, "--db_host=",
         "--addons-path=" + paths, "--http-port=%d" % port, "--max-cron-threads=0", "--log-level=warn",
         "--workers=0"] + extra,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/web/health" % port, timeout=2).read()
            return proc
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("Odoo did not start on port %d" % port)


def post(port, key, body, phases=None):
    """POST one JSON-RPC body; with ``phases`` (dict of lists), appends the Server-Timing phases of
    the answer (ms) and the client's own round trip (``client``), encoding and decoding included."""
    started = time.perf_counter()
    request = urllib.request.Request(
        "http://127.0.0.1:%d/workshop_iot/rpc" % port, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    with urllib.request.urlopen(request, timeout=60) as response:
        doc = json.loads(response.read())
        timing = response.headers.get("Server-Timing")
    if phases is not None:
        phases.setdefault("client", []).append((time.perf_counter() - started) * 1000.0)
        server = 0.0
        for part in (timing or "").split(","):
            name, _sep, dur = part.strip().partition(";dur=")
            if name and dur:
                phases.setdefault(name, []).append(float(dur))
                server = float(dur) if name == "server" else server
        if timing:
            phases.setdefault("outside", []).append(phases["client"][-1] - server)
    return doc


# Phases of one request in the order they happen (tools/rpc_timings.py), then the totals.
PHASES = [
    ("outside", "HTTP, client, Odoo before auth (registry check, cursor, routing)"),
    ("auth", "API key check (cached verification + one SELECT), user, group"),
    ("body", "read and parse the JSON body"),
    ("validate", "params against the generated validator (whole batch)"),
    ("worker", "worker lookup and its last-seen touch"),
    ("screen", "per-event checks: schema, worker, machine scope, times"),
    ("dedup", "duplicate check (SELECT of known uids; gone: the insert's ON CONFLICT says it)"),
    ("insert", "bulk INSERT ... ON CONFLICT DO NOTHING RETURNING (duplicates = not returned)"),
    ("handler", "rest of the handler (fold trigger registration)"),
    ("savepoint", "savepoint release: flush, fold trigger row (precommit hook)"),
    ("respond", "JSON answer"),
    ("flush", "precommit hooks and ORM flush before COMMIT"),
    ("commit", "COMMIT"),
    ("postcommit", "after COMMIT: wake the cron threads"),
    ("server", "route total, auth to postcommit"),
    ("client", "client round trip"),
]


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))]


def print_phases(batch, phases):
    if len(phases.get("server", [])) == 0:
        return
    print()
    print("Per request, batch %d (%d requests), ms:" % (batch, len(phases["server"])))
    print()
    print("| phase | p50 | p90 | p99 | what |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, what in PHASES:
        values = phases.get(name)
        if values:
            print("| %s | %.2f | %.2f | %.2f | %s |" % (name, pct(values, 50), pct(values, 90), pct(values, 99), what))


def bench_ingest(port, key, events, batch, phases=None):
    post(port, key, {"jsonrpc": "2.0", "id": 0, "method": "events.ingest",  # warm-up (caches, key check)
                     "params": {"worker_uid": "wk-bench", "events": events[:1]}})
    started = time.perf_counter()
    accepted = 0
    for n, offset in enumerate(range(1, len(events), batch)):
        chunk = events[offset:offset + batch]
        doc = post(port, key, {"jsonrpc": "2.0", "id": n + 1, "method": "events.ingest",
                               "params": {"worker_uid": "wk-bench", "events": chunk}}, phases)
        if "error" in doc:
            raise SystemExit("ingest error: %s" % doc["error"])
        accepted += sum(1 for r in doc["result"]["results"] if r["status"] == "accepted")
    elapsed = time.perf_counter() - started
    if accepted != len(events) - 1:
        raise SystemExit("only %d of %d events accepted" % (accepted, len(events) - 1))
    return accepted, elapsed


def bench_fold(registry, chunk):
    """Fold every pending event as the cron does, in chunks of ``chunk`` events (the batch size: as
    when each request's trigger gets its own run): the cron's server action through
    ``method_direct_trigger`` (progress record, server action, dashboard notifications at each
    commit), one transaction per chunk. Returns (events folded, seconds)."""
    from odoo import api, SUPERUSER_ID
    from odoo.addons.workshop_iot.models import workshop_event_fold

    workshop_event_fold.FOLD_CHUNK = chunk
    started = time.perf_counter()
    with registry.cursor() as cr:
        cr.execute("SELECT count(*) FROM workshop_event WHERE state = 'pending'")
        pending = cr.fetchone()[0]
    while True:
        with registry.cursor() as cr:  # commits on exit, like the cron after each chunk
            env = api.Environment(cr, SUPERUSER_ID, {})
            env.ref(workshop_event_fold.FOLD_CRON).method_direct_trigger()
            cr.execute("SELECT count(*) FROM workshop_event WHERE state = 'pending'")
            left = cr.fetchone()[0]
        if not left:
            break
    elapsed = time.perf_counter() - started
    with registry.cursor() as cr:
        cr.execute("SELECT state, count(*) FROM workshop_event WHERE worker_uid = 'wk-bench' GROUP BY state")
        states = dict(cr.fetchall())
    if states.get("pending") or states.get("error"):
        raise SystemExit("fold left events behind: %s" % states)
    return pending, elapsed


def bench_orm_batches(registry, events, batch):
    """The same rows, one create() call and one commit per batch (what a request would do)."""
    from odoo import api, SUPERUSER_ID

    started = time.perf_counter()
    for offset in range(0, len(events), batch):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["workshop.event"].create(_orm_vals(env, events[offset:offset + batch]))
    return len(events), time.perf_counter() - started


def _orm_vals(env, events):
    worker = env["workshop.worker"].search([("worker_uid", "=", "wk-bench")])
    devices = {d.device_id: d.id for d in env["workshop.device"].search([])}
    now = datetime.utcnow()
    return [{
        "event_uid": e["event_uid"], "event_type": e["type"], "device_id": devices[e["device_id"]],
        "device_key": e["device_id"], "worker_id": worker.id, "worker_uid": e["worker_uid"], "seq": e["seq"],
        "occurred_at": datetime.strptime(e["occurred_at"][:19], "%Y-%m-%dT%H:%M:%S"), "received_at": now,
        "session_uid": e["payload"].get("session_id"), "payload": e["payload"], "state": "processed",
    } for e in events]


def bench_orm(registry, events):
    """The same rows, one create() call, one transaction (rolled back)."""
    from odoo import api, SUPERUSER_ID

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        vals = _orm_vals(env, events)
        # Warm-up, as the ingest side gets one: the first create() of a process pays one-off costs.
        env["workshop.event"].create([dict(v, event_uid=v["event_uid"] + "-warm") for v in vals[:10]])
        env.flush_all()
        cr.rollback()
        env.invalidate_all()
        started = time.perf_counter()
        env["workshop.event"].create(vals)
        env.flush_all()
        elapsed = time.perf_counter() - started
        cr.rollback()
    return len(events), elapsed


def _serial(ingest_rate, fold_rate):
    """Events/s when every event pays the request and then the fold on the same CPU."""
    return 1.0 / (1.0 / ingest_rate + 1.0 / fold_rate)


def main():
    args = parse_args()
    if not os.path.isfile(os.path.join(args.odoo_src, "odoo-bin")):
        print("SKIPPED: no Odoo tree at %s (set ODOO_SRC)" % args.odoo_src)
        return 0
    paths, registry, key = setup_database(args)
    port = free_port()
    server = start_server(args, paths, port)
    rows = []
    all_phases = {}
    seq = 0
    try:
        for batch in (100, 1000):
            events, seq = session_events("wk-bench", args.events + 1, DEVICES, seq, 6.8)
            phases = {}
            n_ingest, t_ingest = bench_ingest(port, key, events, batch, phases)
            all_phases[batch] = phases
            n_fold, t_fold = bench_fold(registry, batch)
            orm_events, seq = session_events("wk-bench", args.events, DEVICES, seq, 6.8)
            n_orm, t_orm = bench_orm(registry, orm_events)
            orm_events, seq = session_events("wk-bench", args.events, DEVICES, seq, 6.8)
            n_batched, t_batched = bench_orm_batches(registry, orm_events, batch)
            rows.append((batch, n_ingest, t_ingest, n_ingest / t_ingest, n_orm / t_orm, n_batched / t_batched,
                         n_fold / t_fold))
    finally:
        server.terminate()
        server.wait(30)
        import odoo.sql_db
        from odoo.modules.registry import Registry

        Registry.delete(args.db)
        odoo.sql_db.close_db(args.db)  # release the setup/baseline connections before dropdb
        if not args.keep_db:
            subprocess.run(["dropdb", "--if-exists", args.db], check=False)
    print()
    print("| batch | events | ingest time (s) | ms/request | ingest events/s | ORM one create() rows/s | ratio"
          " | ORM create()+commit per batch rows/s | ratio | fold events/s | ingest then fold events/s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for batch, n, t, ingest_rate, orm_rate, batched_rate, fold_rate in rows:
        print("| %d | %d | %.2f | %.1f | %.0f | %.0f | %.2f | %.0f | %.2f | %.0f | %.0f |" % (
            batch, n, t, 1000.0 * t / -(-n // batch), ingest_rate, orm_rate, ingest_rate / orm_rate, batched_rate,
            ingest_rate / batched_rate, fold_rate, _serial(ingest_rate, fold_rate)))
    print()
    print("ingest = HTTP POST /workshop_iot/rpc events.ingest (bearer API key, schema validation, duplicate check, "
          "event log insert as pending, fold trigger, commit); fold = the fold cron run in this process "
          "(method_direct_trigger) until nothing is pending, one chunk of <batch> events per run and transaction "
          "(sessions, seq gaps, live state, dashboard bus notifications); ingest then fold = both costs paid "
          "one after the other (one Odoo process shares one CPU-bound interpreter between its HTTP and cron "
          "threads); ORM = workshop.event.create(list) of the same number "
          "of event rows, one call, one transaction (event rows only), %d machines, threaded odoo-bin, %d CPU(s), "
          "load %.2f." % (DEVICES, os.cpu_count(), os.getloadavg()[0]))
    for batch, phases in all_phases.items():
        print_phases(batch, phases)
    metrics = []
    for batch, n, t, ingest_rate, orm_rate, batched_rate, fold_rate in rows:
        metrics += [
            {"name": "ingest throughput, batch %d" % batch, "value": round(ingest_rate, 1), "unit": "events/s",
             "target": ">= 1000"},
            {"name": "ingest / ORM one create() ratio, batch %d" % batch, "value": round(ingest_rate / orm_rate, 3),
             "unit": "x", "target": ">= 0.5"},
            {"name": "ORM one create() of the same rows, batch %d pass" % batch, "value": round(orm_rate, 1),
             "unit": "rows/s", "better": "higher"},
            {"name": "ingest / ORM create()+commit per batch ratio, batch %d" % batch,
             "value": round(ingest_rate / batched_rate, 3), "unit": "x", "better": "higher"},
            {"name": "fold throughput after the batch %d ingest" % batch, "value": round(fold_rate, 1),
             "unit": "events/s", "better": "higher"},
            {"name": "ingest then fold, batch %d" % batch, "value": round(_serial(ingest_rate, fold_rate), 1),
             "unit": "events/s", "better": "higher"},
        ]
        phases = all_phases.get(batch, {})
        for name in ("server", "postcommit"):
            if phases.get(name):
                metrics.append({"name": "request %s p50, batch %d (ms)" % (name, batch),
                                "value": round(pct(phases[name], 50), 2), "unit": "ms", "better": "lower"})
    result = {"bench": "odoo-ingest", "metrics": metrics, "notes": [
        "%d events per batch size, %d machines (start, 29 heartbeats, stop per session, interleaved), threaded "
        "odoo-bin started like deploy (-d%s) but without cron threads, bearer API key" % (
            args.events, DEVICES, " and --db-filter" if args.db_filter else " only"),
        "ingest stores events as pending and triggers the fold cron; the fold (sessions, live state, dashboard "
        "notifications) is measured on its own after each ingest phase: the cron run in-process, chunks of the "
        "batch size",
        "ORM baseline: workshop.event.create() of the same number of rows in one transaction, event rows only",
        "load average %.2f at the end" % os.getloadavg()[0],
    ]}
    print("BENCH_RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
