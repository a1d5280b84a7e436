#!/usr/bin/env bash
# End-to-end test of the whole product against the real stack (see scripts/e2e/README.md):
#
#   scripts/e2e/run.sh            # ODOO_SRC defaults to /opt/odoo18
#   scripts/e2e/run.sh --keep     # keep the database and the state dir (logs, worker data)
#   scripts/e2e/run.sh --onboarding [--screenshots <dir>]   # the admin's first hour in Chromium
#   scripts/e2e/run.sh --scale    # three workers against one multi-process Odoo behind a proxy
#
# Without an Odoo tree it prints a loud SKIP and exits 0 (the caller decides whether a skip is
# acceptable). Otherwise the last line is "N passed, N failed" and the exit code 1 on any failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo18}
export ODOO_SRC

if [ ! -f "$ODOO_SRC/odoo-bin" ]; then
  cat >&2 <<MSG
##########################################################################################
##  SKIPPED: workshop_iot end-to-end test — no Odoo 18 tree at ODOO_SRC=$ODOO_SRC
##  Point ODOO_SRC at an Odoo 18.0 source tree (odoo-bin, odoo/, addons/) to run it.
##########################################################################################
MSG
  exit 0
fi

missing=()
[ -x /usr/bin/python3 ] || missing+=("/usr/bin/python3 (Debian's python3 runs Odoo)")
[ -x /usr/sbin/mosquitto ] || missing+=("mosquitto (apt-get install -y mosquitto)")
command -v psql >/dev/null || missing+=("psql (apt-get install -y postgresql-client)")
psql -X -d postgres -Atc 'SELECT 1' >/dev/null 2>&1 ||
  missing+=("PostgreSQL on the local socket for $(id -un) (see shared/tools/odoo-runtime.sh)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'e2e: missing %s\n' "${missing[@]}" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

cd "$repo"
if [ "${1:-}" = "--onboarding" ]; then
  shift
  exec node --import tsx scripts/e2e/onboarding.ts "$@"
fi
if [ "${1:-}" = "--scale" ]; then
  shift
  exec node --import tsx scripts/e2e/scale.ts "$@"
fi
exec node --import tsx scripts/e2e/e2e.ts "$@"
