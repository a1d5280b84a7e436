#!/usr/bin/env bash
# Full local Workshop IoT stack without Docker, in one command:
#
#   scripts/dev-stack.sh                          # new database wiot_dev, mosquitto, Odoo, worker
#   scripts/dev-stack.sh --reuse --simulate full-session --speed 10
#   scripts/dev-stack.sh --embedded-broker --http-port 8070
#   scripts/dev-stack.sh stop                     # from another terminal (or Ctrl-C in this one)
#   scripts/dev-stack.sh status
#   scripts/dev-stack.sh --help
#
# Needs an Odoo 18 source tree (ODOO_SRC, default /opt/odoo18) runnable with Debian's /usr/bin/python3
# (python3-* packages), the local PostgreSQL with a superuser role for this OS user, mosquitto, and
# `npm install` done. Everything it writes goes to the state dir (default
# ~/.local/state/workshop-iot/dev-stack, override with --state-dir or WIOT_STATE_DIR), never the repo.
# The work is done by scripts/dev/cli.ts (TypeScript, shared with the end-to-end test).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo18}
export ODOO_SRC

case "${1:-up}" in
  stop | status | -h | --help) ;;
  *)
    problems=()
    [ -f "$ODOO_SRC/odoo-bin" ] || problems+=("no Odoo 18 tree at ODOO_SRC=$ODOO_SRC (odoo-bin missing)")
    [ -x /usr/bin/python3 ] || problems+=("/usr/bin/python3 missing (Debian's python3 runs Odoo)")
    command -v psql >/dev/null || problems+=("psql missing: apt-get install postgresql-client")
    psql -X -d postgres -Atc 'SELECT 1' >/dev/null 2>&1 ||
      problems+=("PostgreSQL not reachable on the local socket as $(id -un) (see shared/tools/odoo-runtime.sh)")
    if [ "${*#*--embedded-broker}" = "$*" ]; then
      [ -x /usr/sbin/mosquitto ] || problems+=("mosquitto missing: apt-get install mosquitto (or --embedded-broker)")
    fi
    [ -d "$repo/node_modules/tsx" ] || problems+=("node modules missing: run npm install in $repo")
    if [ ${#problems[@]} -gt 0 ]; then
      printf 'dev-stack: %s\n' "${problems[@]}" >&2
      exit 2
    fi
    ;;
esac

cd "$repo"
exec node --import tsx scripts/dev/cli.ts "$@"
