# Runs inside `odoo-bin shell` for the onboarding walk-through (scripts/e2e/onboarding.ts) on a
# bare Odoo database (only base installed): sets a fresh random admin password, the one thing an
# admin has before opening the browser. Everything else the walk-through does in the browser.
#
# Input: JSON in WIOT_SETUP: {"admin_password": "..."}. Output: `WIOT_SETUP_RESULT {"admin_login": ...}`.
import json
import os

setup = json.loads(os.environ["WIOT_SETUP"])
admin = env.ref("base.user_admin")  # noqa: F821 (env comes from odoo-bin shell)
admin.password = setup["admin_password"]
env.cr.commit()  # noqa: F821 (a shell session rolls back otherwise)
print("WIOT_SETUP_RESULT " + json.dumps({"admin_login": admin.login}))
