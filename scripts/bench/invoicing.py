#!/usr/bin/python3
"""Benchmark: sessions/s of "Create invoices" (workshop_iot_account) vs creating the same invoice
lines by one ORM ``create()`` of the same invoices.

Run with Debian's python3 (it imports Odoo):

    /usr/bin/python3 scripts/bench/invoicing.py              # ODOO_SRC defaults to /opt/odoo18
    /usr/bin/python3 scripts/bench/invoicing.py --sessions 2000 --members 100 --rounds 1

It creates a throwaway database with workshop_iot and workshop_iot_account (Odoo installs the
generic chart of accounts with ``account``), a service product, 20 machines, 500 members and 10,000
closed sessions to bill. Then, in this process and in one transaction each, rolled back after:

- *Create invoices*: ``_create_invoices_as_caller()`` on all sessions, as an Invoicing user (what
  the list button runs: rights, review gate, member/product checks, prices, one invoice per member,
  linking each session to its line and marking it billed), flushed to the database;
- *ORM baseline*: ``account.move.create()`` of exactly the invoices and lines the action makes
  (their values built beforehand, untimed), flushed.

Rounds alternate the order; each side keeps its best round. Prints a table, then the
``BENCH_RESULT`` line of ``npm run bench`` (scripts/bench/result.ts); target: ratio >= 0.5.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta

from odoo_bench_db import install_and_open  # beside this script (its folder is on sys.path)

MACHINES = 20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--odoo-src", default=os.environ.get("ODOO_SRC", "/opt/odoo18"))
    parser.add_argument("--db", default="wiot_bench_invoicing_%d" % os.getpid())
    parser.add_argument("--sessions", type=int, default=10000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--grouping", choices=("session", "machine"), default="session")
    parser.add_argument("--keep-db", action="store_true")
    return parser.parse_args()


def setup_database(args):
    """Install both modules, then machines, members and sessions (committed: each round rolls back to here)."""
    _, registry = install_and_open(args.odoo_src, args.db, "workshop_iot,workshop_iot_account")
    from odoo import SUPERUSER_ID, api
    rnd = random.Random(16)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        env.company.workshop_invoice_grouping = args.grouping
        product = env["product.product"].create({"name": "Machine time", "type": "service", "list_price": 12.0})
        devices = env["workshop.device"].create([{
            "name": "Machine %02d" % i, "device_id": "inv-bench-%02d" % i, "topic": "inv-bench/%02d" % i,
            "billing_unit_minutes": 15, "invoice_product_id": product.id,
            # A quarter of the machines at a fixed price, the others at the member's pricelist price.
            "invoice_fixed_price": i % 4 == 0, "billing_price_unit": 3.0,
        } for i in range(MACHINES)])
        members = env["res.partner"].create([{"name": "Member %03d" % i} for i in range(args.members)])
        t0 = datetime(2026, 1, 5, 7, 0)
        vals = []
        for i in range(args.sessions):
            started = t0 + timedelta(minutes=37 * i)
            working = 60.0 * rnd.randint(5, 240)
            vals.append({
                "session_uid": "inv-bench-%06d" % i, "device_id": devices[i % MACHINES].id,
                "member_id": members[i % args.members].id, "started_at": started,
                "ended_at": started + timedelta(seconds=working), "state": "done", "stop_reason": "power_off",
                "has_start_event": True, "has_stop_event": True, "total_s": working, "working_s": working,
            })
        sessions = env["workshop.session"].create(vals)
        sessions._update_billing()
        biller = env["res.users"].create({"name": "Bench biller", "login": "bench-biller", "groups_id": [
            (6, 0, [env.ref("base.group_user").id, env.ref("account.group_account_invoice").id])]})
    return registry, biller.id


def _timed(registry, fn):
    """(count, seconds) of ``fn(env)`` in a transaction rolled back afterwards; flush included."""
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        # Untimed preparation (the baseline's values). The cache is left warm: the action warms it
        # itself while planning, inside its timing, so the baseline's create() starts on equal terms.
        prepared = fn(env, None)
        start = time.perf_counter()
        count = fn(env, prepared)
        env.flush_all()
        elapsed = time.perf_counter() - start
        cr.rollback()
    return count, elapsed


def create_invoices(biller_id):
    def run(env, prepared):
        if prepared is None:
            return True
        sessions = env["workshop.session"].with_user(biller_id).search([("billing_state", "=", "to_bill")])
        result = sessions._create_invoices_as_caller()
        assert len(result.invoiced) == len(sessions), result.skipped
        return len(result.invoiced)
    return run


def orm_baseline(env, prepared):
    if prepared is None:  # the same invoices, values built by the action's own planner (untimed)
        sessions = env["workshop.session"].search([("billing_state", "=", "to_bill")])
        plan = sessions._invoice_plan()
        return [vals for vals, _lines in plan], len(sessions)
    vals_list, count = prepared
    env["account.move"].with_context(default_move_type="out_invoice").create(vals_list)
    return count


def main():
    args = parse_args()
    if not os.path.isfile(os.path.join(args.odoo_src, "odoo-bin")):
        print("SKIPPED: no Odoo tree at %s (set ODOO_SRC)" % args.odoo_src)
        return 0
    registry, biller_id = setup_database(args)
    best = {"action": None, "orm": None}
    runs = {"action": create_invoices(biller_id), "orm": orm_baseline}
    try:
        for r in range(args.rounds):
            order = ("action", "orm") if r % 2 == 0 else ("orm", "action")
            for side in order:
                count, seconds = _timed(registry, runs[side])
                rate = count / seconds
                print("round %d %-6s %d sessions in %.2f s: %.0f sessions/s" % (r + 1, side, count, seconds, rate),
                      file=sys.stderr)
                if best[side] is None or rate > best[side][2]:
                    best[side] = (count, seconds, rate)
    finally:
        import odoo.sql_db
        from odoo.modules.registry import Registry

        Registry.delete(args.db)
        odoo.sql_db.close_db(args.db)
        if not args.keep_db:
            subprocess.run(["dropdb", "--if-exists", args.db], check=False)
    action, orm = best["action"], best["orm"]
    ratio = action[2] / orm[2]
    print()
    print("| sessions | members | lines | Create invoices (s) | sessions/s | ORM create() (s) | sessions/s | ratio |")
    print("| ---: | ---: | :--- | ---: | ---: | ---: | ---: | ---: |")
    print("| %d | %d | one per %s | %.2f | %.0f | %.2f | %.0f | %.2f |" % (
        action[0], args.members, args.grouping, action[1], action[2], orm[1], orm[2], ratio))
    result = {
        "bench": "odoo-invoicing",
        "metrics": [
            {"name": "Create invoices / ORM create() ratio", "value": round(ratio, 3), "unit": "x", "target": ">= 0.5"},
            {"name": "Create invoices", "value": round(action[2], 1), "unit": "sessions/s", "better": "higher"},
            {"name": "ORM create() of the same invoices", "value": round(orm[2], 1), "unit": "sessions/s",
             "better": "higher"},
        ],
        "notes": ["%d sessions of %d members, one line per %s, best of %d rounds" % (
            action[0], args.members, args.grouping, args.rounds)],
    }
    print("BENCH_RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
