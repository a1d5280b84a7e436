"""A fresh database for the Odoo benches (odoo-ingest, maintenance-fold, invoicing): dropped, the
modules installed without demo data by odoo-bin, then Odoo's registry opened in this process.
Returns the addons path too, for a bench that also starts an Odoo server on the database."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def install_and_open(odoo_src, db, modules):
    paths = "%s/addon,%s/addons,%s/odoo/addons" % (REPO, odoo_src, odoo_src)
    subprocess.run(["dropdb", "--if-exists", db], check=True)
    subprocess.run(["/usr/bin/python3", os.path.join(odoo_src, "odoo-bin"), "-d", db, "--db_host=",
                    "--addons-path=" + paths, "-i", modules, "--without-demo=all", "--stop-after-init",
                    "--log-level=warn"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sys.path.insert(0, odoo_src)
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["--addons-path=" + paths, "--db_host=", "-d", db, "--log-level=warn"])
    return paths, Registry(db)
