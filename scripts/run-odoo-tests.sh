#!/usr/bin/env bash
# Run the tests of our Odoo addons (WIOT_MODULES) with Odoo's own test runner against a real Odoo 18
# and PostgreSQL.
#
#   scripts/run-odoo-tests.sh                 # Odoo tree from ODOO_SRC (default /opt/odoo18)
#   ODOO_SRC=~/src/odoo scripts/run-odoo-tests.sh
#   WIOT_TEST_TAGS=/workshop_iot:TestRpcHttp scripts/run-odoo-tests.sh   # a subset
#   WIOT_MODULES="workshop_iot" scripts/run-odoo-tests.sh                # install (and test) fewer modules
#
# Without an Odoo tree it prints a loud SKIP and exits 0 (the caller decides whether a skip is
# acceptable). Otherwise: install missing Debian python3 packages (apt-get, as root), make sure the
# local PostgreSQL runs, create a throwaway database, install the addon with --test-enable, fail
# on any failed test, error or traceback in the log or WARNING of our own modules, print "N passed,
# N failed", drop the database.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo18}
PY=/usr/bin/python3   # Debian's python, which sees the python3-* packages (never a pyenv one)
# Our addons, installed together and tested (one per word; add a new module here).
WIOT_MODULES=${WIOT_MODULES:-"workshop_iot workshop_iot_account workshop_iot_portal workshop_iot_maintenance"}
# Default tags: every test of each module (/workshop_iot,/workshop_iot_account,...).
TAGS=${WIOT_TEST_TAGS:-$(printf '/%s,' $WIOT_MODULES | sed 's/,$//')}
MODULES_CSV=$(echo $WIOT_MODULES | tr ' ' ',')
# Loggers of our modules, for the log check below: odoo.addons.(workshop_iot|workshop_iot_portal)
MODULES_RE=$(echo $WIOT_MODULES | tr ' ' '|')

if [ ! -f "$ODOO_SRC/odoo-bin" ]; then
  cat >&2 <<MSG
##########################################################################################
##  SKIPPED: workshop_iot Odoo tests — no Odoo 18 tree at ODOO_SRC=$ODOO_SRC
##  Point ODOO_SRC at an Odoo 18.0 source tree (odoo-bin, odoo/, addons/) to run them.
##########################################################################################
MSG
  exit 0
fi

# --- Debian packages ------------------------------------------------------------------------
debs=$(grep -v '^#' "$here/odoo/debian-packages.txt" | tr '\n' ' ')
need=""
for p in $debs; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
  echo "installing:$need"
  if [ "$(id -u)" != 0 ]; then echo "need root (or sudo) to apt-get install:$need" >&2; exit 2; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi

# --- PostgreSQL -----------------------------------------------------------------------------
if command -v pg_lsclusters >/dev/null; then
  ver=$(ls /etc/postgresql | sort -n | tail -1)
  pg_lsclusters -h | grep -q " online " || pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  me=$(id -un)
  if [ "$(id -u)" = 0 ] || [ "$me" = postgres ]; then
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$me'\"" | grep -q 1 ||
      su postgres -c "psql -qc 'CREATE ROLE \"$me\" SUPERUSER LOGIN'"
  fi
fi

paths="$repo/addon,$ODOO_SRC/odoo/addons"
[ -d "$ODOO_SRC/addons" ] && paths="$repo/addon,$ODOO_SRC/addons,$ODOO_SRC/odoo/addons"

db="wiot_test_$$_$(date +%s)"
log=$(mktemp -t wiot-odoo-tests.XXXXXX.log)
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "database $db, addons path $paths, log $log"
set +e
"$PY" "$ODOO_SRC/odoo-bin" -d "$db" --db_host= --addons-path="$paths" -i "$MODULES_CSV" \
  --without-demo=all --test-enable --test-tags "$TAGS" --stop-after-init --log-level=test \
  --http-port="${WIOT_TEST_HTTP_PORT:-18069}" --max-cron-threads=0 >"$log" 2>&1
rc=$?
set -e

# Odoo's summary: "N failed, N error(s) of N tests when loading database" (INFO when green, ERROR
# otherwise). Each failing test also logs "FAIL: Class.test" or "ERROR: Class.test".
set +o pipefail  # grep finding nothing is a normal outcome below
summary=$(grep -E '[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests' "$log" | tail -1 || true)
total=$(echo "$summary" | sed -nE 's/.* of ([0-9]+) tests.*/\1/p'); total=${total:-0}
failed=$(echo "$summary" | sed -nE 's/.* ([0-9]+) failed, ([0-9]+) error.*/\1 \2/p' | awk '{print $1 + $2}')
failed=${failed:-0}
listed=$(grep -cE ' (FAIL|ERROR): ' "$log" || true)
if [ "$listed" -gt "$failed" ]; then failed=$listed; fi
# Odoo's CI rule: the log stays clean. Any ERROR fails; so does a WARNING from our own modules (an
# expected one is captured by the test with assertLogs/mute_logger and never reaches the log), and
# one that Odoo's core logs about them (e.g. ir_model's "Two fields ... have the same label ...
# [Modules: workshop_iot]").
fail_lines=$(grep -E "^[0-9-]+ [0-9:,]+ [0-9]+ ((ERROR|CRITICAL) |WARNING [^ ]+ (odoo\\.addons\\.($MODULES_RE)\\b|.*workshop[._]iot))" "$log" || true)
tracebacks=$(grep -c '^Traceback (most recent call last)' "$log" || true)
passed=$(( total > failed ? total - failed : 0 ))

if [ -n "$fail_lines" ]; then echo "$fail_lines" | head -40; fi
echo "----------------------------------------------------------------------"
echo "Odoo tests of $WIOT_MODULES: $passed passed, $failed failed (of $total), $tracebacks traceback(s) in the log"
if [ "$rc" != 0 ] || [ -n "$fail_lines" ] || [ "$tracebacks" != 0 ] || [ "$failed" != 0 ] || [ "$total" = 0 ]; then
  echo "FAILED (odoo exit $rc) — full log: $log" >&2
  exit 1
fi
rm -f "$log"
echo "OK"
