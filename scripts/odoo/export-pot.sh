#!/usr/bin/env bash
# Export the translation templates of our Odoo modules with Odoo's own exporter and bring each
# module's German translation up to date with its template.
#
#   scripts/odoo/export-pot.sh                          # every module under addon/
#   WIOT_MODULES="workshop_iot" scripts/odoo/export-pot.sh
#
# Installs the modules (without demo data, like the test runner) in a throwaway database, writes
# addon/<module>/i18n/<module>.pot (Python _()/_lt()/env._, views, data, fields, and _t("…") of the
# JS under static/src, which includes the built dashboard bundle: run `node web/build.mjs` first),
# then merges it into addon/<module>/i18n/de.po (msgmerge, no fuzzy matching: a new or changed
# msgid arrives untranslated) and lists the entries still to translate. The database is dropped.
# test_translations.py fails while a template is stale or a translation incomplete.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo18}
PY=/usr/bin/python3   # Debian's python, which sees the python3-* packages (never a pyenv one)
# Every module of the repository (a folder of addon/ with a manifest), unless told otherwise.
WIOT_MODULES=${WIOT_MODULES:-$(cd "$repo/addon" && for m in */__manifest__.py; do printf '%s ' "${m%%/*}"; done)}
LANGS=${WIOT_LANGS:-"de"}

[ -f "$ODOO_SRC/odoo-bin" ] || { echo "no Odoo 18 tree at ODOO_SRC=$ODOO_SRC" >&2; exit 2; }
for tool in msgmerge msgattrib; do
  command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install gettext" >&2; exit 2; }
done

paths="$repo/addon,$ODOO_SRC/odoo/addons"
[ -d "$ODOO_SRC/addons" ] && paths="$repo/addon,$ODOO_SRC/addons,$ODOO_SRC/odoo/addons"
db="wiot_i18n_$$_$(date +%s)"
log=$(mktemp -t wiot-i18n.XXXXXX.log)
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "installing $WIOT_MODULES in $db (log $log)"
"$PY" "$ODOO_SRC/odoo-bin" -d "$db" --db_host= --addons-path="$paths" -i "$(echo $WIOT_MODULES | tr ' ' ',')" \
  --without-demo=all --stop-after-init --max-cron-threads=0 --http-port=0 >"$log" 2>&1 ||
  { tail -40 "$log" >&2; exit 1; }

WIOT_MODULES="$WIOT_MODULES" "$PY" "$ODOO_SRC/odoo-bin" shell -d "$db" --db_host= --addons-path="$paths" \
  --no-http --log-level=warn >>"$log" 2>&1 <<'PY' || { tail -40 "$log" >&2; exit 1; }
import os
from odoo.addons.workshop_iot.tests.i18n_files import export_template, module_i18n_dir, without_dates
for module in os.environ["WIOT_MODULES"].split():
    folder = module_i18n_dir(module)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, module + ".pot")
    fresh = export_template(env.cr, module)
    old = open(path).read() if os.path.exists(path) else None
    # Same strings: keep the file as it is (a new export differs only in its header dates).
    if old is None or without_dates(old) != without_dates(fresh):
        with open(path, "w") as out:
            out.write(fresh)
PY

for module in $WIOT_MODULES; do
  dir="$repo/addon/$module/i18n"
  echo "exported addon/$module/i18n/$module.pot"
  for lang in $LANGS; do
    po="$dir/$lang.po"
    if [ -f "$po" ]; then
      msgmerge --quiet --no-fuzzy-matching --no-wrap --backup=none -U "$po" "$dir/$module.pot"
    else
      sed 's/^"Language: \\n"$/"Language: '"$lang"'\\n"/' "$dir/$module.pot" >"$po"
    fi
    msgattrib --no-obsolete --no-wrap -o "$po" "$po"
    todo=$(msgattrib --untranslated --no-obsolete "$po" | grep -c '^msgid ' || true)
    # msgattrib prints the header entry too when anything is left.
    todo=$(( todo > 0 ? todo - 1 : 0 ))
    echo "addon/$module/i18n/$lang.po: $todo entries to translate"
  done
done
rm -f "$log"
