"""18.0.1.2.0: machines, workers, brokers, sessions and events belong to a company (multi-company
record rules hide rows of other companies, and rows without a company from everyone). Rows written
by an earlier version without a company get the main company (the database had one workshop): what defaults or
computes left empty while the new columns were added."""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

# Tables whose rows earlier versions wrote without a company. workshop_discovered_meter follows its
# worker's company and has no column of its own.
TABLES = ("workshop_broker", "workshop_worker", "workshop_device", "workshop_session", "workshop_event")


def migrate(cr, version):
    if not version:  # a fresh install sets the company on create
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    assign_main_company(env)


def assign_main_company(env):
    """Set the main company on every row of ``TABLES`` that has none; return {table: rows set}."""
    company = env.ref("base.main_company", raise_if_not_found=False) or env["res.company"].search([], limit=1)
    env.flush_all()
    counts = {}
    for table in TABLES:
        env.cr.execute(SQL("UPDATE %s SET company_id = %s WHERE company_id IS NULL",
                           SQL.identifier(table), company.id))
        counts[table] = env.cr.rowcount
    env.invalidate_all()
    return counts
