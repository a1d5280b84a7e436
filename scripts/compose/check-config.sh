#!/usr/bin/env bash
# Offline checks of the Docker stack (no Docker engine needed). Renders docker-compose.yaml the way
# `docker compose config` does, with throwaway secrets filled into a copy of .env.example (the real
# .env and the caller's environment are never read), and checks the deployment defaults:
#   - every secret is required: compose refuses to render without it, naming it;
#   - every published port listens on 127.0.0.1 unless ODOO_BIND / MQTT_BIND / WORKER_BIND open it;
#   - Odoo: database manager off (list_db = False) and the master password from .env, read back by
#     Odoo's own config parser when an Odoo tree is at ODOO_SRC;
#   - worker: a memory limit (1 GiB unless WORKER_MEM_LIMIT says otherwise): Node sizes V8's heap
#     from it, as on a small board;
#   - mosquitto: no anonymous access, a password file with a login per role, an ACL that a real
#     mosquitto enforces (check-mosquitto.sh).
# Uses `docker compose` when the plugin exists, else Debian's docker-compose; prints `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null; then compose=(docker-compose)
else echo "no docker compose and no docker-compose (apt-get install docker-compose)"; echo "0 passed, 1 failed"; exit 1; fi
tmp=$(mktemp -d)
trap 'kill "${mq_pid:-}" 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
ko() { echo "FAIL $1"; failed=$((failed + 1)); }
# Only the env file counts: a variable exported by the caller would hide a missing secret.
render() { env -i PATH="$PATH" HOME="${HOME:-/root}" "${compose[@]}" --env-file "$1" -f docker-compose.yaml config "${@:2}"; }

# Lines of one service of the rendered config ($rendered).
service_block() { awk -v svc="  $1:" '$0 == svc { on = 1; next } on && /^(  )?[^ ]/ { on = 0 } on' <<<"$rendered"; }

# One line per entry of a service's `ports:` or `volumes:` list in a rendered config, sorted:
#   ports    `service host_ip published target` (host_ip 0.0.0.0 when none is given)
#   volumes  `service source target ro|rw`
# Reads both renderings: docker compose v2 (long syntax: host_ip/published/target,
# source/target/read_only) and docker-compose v1 (`ip:published:target/tcp`, `source:target:ro`).
entries() {
  awk -v key="$1" '
    function flush() {
      if (item && key == "ports") print svc, (host == "" ? "0.0.0.0" : host), pub, tgt
      if (item && key == "volumes") print svc, src, tgt, (ro == "true" || ro == "ro" ? "ro" : "rw")
      item = 0; host = pub = tgt = src = ro = ""
    }
    function kv(s,  k, v) {
      k = s; sub(/:.*/, "", k); v = s; sub(/^[^:]*: */, "", v); gsub(/"/, "", v)
      if (k == "host_ip") host = v; else if (k == "published") pub = v; else if (k == "target") tgt = v
      else if (k == "source") src = v; else if (k == "read_only") ro = v
    }
    function scalar(s,  n, a) {
      gsub(/"/, "", s); sub(/\/(tcp|udp)$/, "", s); n = split(s, a, ":")
      if (key == "volumes") { src = a[1]; tgt = a[2]; ro = a[3]; return }
      if (n >= 3) { host = a[1]; pub = a[2]; tgt = a[3] } else if (n == 2) { pub = a[1]; tgt = a[2] } else tgt = a[1]
    }
    /^services:/ { in_services = 1; next }
    /^[^ ]/ { flush(); in_services = on = 0; next }
    in_services && /^  [^ ]/ { flush(); svc = $1; sub(/:$/, "", svc); on = 0; next }
    in_services && /^    [^ -]/ { flush(); on = ($1 == key ":"); next }
    on && /^ *- / { flush(); item = 1; s = $0; sub(/^ *- /, "", s); if (s ~ /^[a-z_]+:( |$)/) kv(s); else scalar(s); next }
    on && item { s = $0; sub(/^ */, "", s); kv(s) }
    END { flush() }' <<<"$2" | sort
}

secrets=(POSTGRES_PASSWORD ODOO_ADMIN_PASSWORD MQTT_WORKER_PASSWORD MQTT_DEVICE_PASSWORD WORKER_TOKEN ODOO_API_KEY)
sed -E 's/^([A-Z_]+)=$/\1=throwaway-\1/' .env.example >"$tmp/env"

# --- rendering and secrets ---------------------------------------------------------------------
if render "$tmp/env" -q; then ok "compose file validates"; else ko "compose file validates"; fi
rendered=$(render "$tmp/env" 2>&1)
for svc in db odoo mosquitto worker; do
  if grep -qE "^  $svc:" <<<"$rendered"; then ok "service $svc defined"; else ko "service $svc defined"; fi
done
for name in "${secrets[@]}"; do
  if ! grep -qx "$name=" .env.example; then ko "$name is listed in .env.example without a value"; continue; fi
  sed "s/^$name=.*/$name=/" "$tmp/env" >"$tmp/env-missing"
  if render "$tmp/env-missing" -q 2>"$tmp/err"; then
    ko "compose refuses to start without $name"
  elif grep -q "set $name in .env" "$tmp/err"; then
    ok "compose refuses to start without $name, naming it"
  else
    ko "compose refuses to start without $name (unexpected error: $(head -c 300 "$tmp/err"))"
  fi
done

# --- published ports -----------------------------------------------------------------------------
ports=$(entries ports "$rendered")
want=$'mosquitto 127.0.0.1 1883 1883\nodoo 127.0.0.1 8069 8069\nworker 127.0.0.1 8787 8787'
if [ "$ports" = "$want" ]; then ok "every published port listens on 127.0.0.1 by default (odoo, mosquitto, worker)"
else ko "every published port listens on 127.0.0.1 by default; published: [$(tr '\n' ';' <<<"$ports")]"; fi
printf 'ODOO_BIND=192.0.2.1\nMQTT_BIND=192.0.2.2\nWORKER_BIND=192.0.2.3\n' | cat "$tmp/env" - >"$tmp/env-open"
ports=$(entries ports "$(render "$tmp/env-open" 2>&1)")
want=$'mosquitto 192.0.2.2 1883 1883\nodoo 192.0.2.1 8069 8069\nworker 192.0.2.3 8787 8787'
if [ "$ports" = "$want" ]; then ok "ODOO_BIND, MQTT_BIND, WORKER_BIND open their own service's port"
else ko "ODOO_BIND, MQTT_BIND, WORKER_BIND open their own service's port; published: [$(tr '\n' ';' <<<"$ports")]"; fi

# --- worker: a memory limit (Node sizes V8's heap from it), WORKER_MEM_LIMIT overrides it -------
# v1 renders `mem_limit: 1g`, the v2 plugin the bytes.
limit() { service_block worker | sed -nE 's/^ +mem_limit: "?([0-9a-z]+)"?$/\1/p'; }
got=$(limit)
rendered_default=$rendered
printf 'WORKER_MEM_LIMIT=2g\n' | cat "$tmp/env" - >"$tmp/env-mem"
rendered=$(render "$tmp/env-mem" 2>&1)
got_override=$(limit)
rendered=$rendered_default
if [[ "$got" =~ ^(1g|1073741824)$ && "$got_override" =~ ^(2g|2147483648)$ ]]; then
  ok "worker: memory limit 1 GiB by default, WORKER_MEM_LIMIT sets it"
else ko "worker: memory limit 1 GiB by default, WORKER_MEM_LIMIT sets it (got '$got', '$got_override')"; fi

# --- Odoo: no database manager, master password from .env -----------------------------------------
odoo=$(service_block odoo)
if grep -q 'ODOO_ADMIN_PASSWORD: throwaway-ODOO_ADMIN_PASSWORD' <<<"$odoo" \
  && grep -qx "odoo $PWD/deploy/odoo /etc/odoo/workshop-iot ro" <<<"$(entries volumes "$rendered")" \
  && [ "$(grep -A3 -- '- sh$' <<<"$odoo" | tr -d ' ' | tr '\n' ' ')" = "-sh -/etc/odoo/workshop-iot/start.sh -/entrypoint.sh -odoo " ]; then
  ok "odoo: compose passes ODOO_ADMIN_PASSWORD and starts Odoo through deploy/odoo/start.sh"
else ko "odoo: compose passes ODOO_ADMIN_PASSWORD and starts Odoo through deploy/odoo/start.sh"; fi
if [ -f deploy/odoo/odoo.conf ] && ! grep -q '^ *admin_passwd' deploy/odoo/odoo.conf; then
  ok "odoo: deploy/odoo/odoo.conf commits no master password"
else ko "odoo: deploy/odoo/odoo.conf exists and commits no master password"; fi
[ -f deploy/odoo/start.sh ] || ko "odoo: deploy/odoo/start.sh exists"
odoo_start() { env -i PATH="$PATH" ODOO_RC="$tmp/odoo.conf" "$@" sh deploy/odoo/start.sh true >/dev/null 2>&1; echo $?; }
if [ "$(odoo_start)" != 0 ] && [ "$(odoo_start ODOO_ADMIN_PASSWORD=)" != 0 ] && [ "$(odoo_start ODOO_ADMIN_PASSWORD=admin)" != 0 ] \
  && [ "$(odoo_start ODOO_ADMIN_PASSWORD="$(printf 'a\nlist_db = True')")" != 0 ]; then
  ok "odoo: start.sh refuses a missing, 'admin' or multi-line master password"
else ko "odoo: start.sh refuses a missing, 'admin' or multi-line master password"; fi
# Characters an INI parser or a shell might mangle: the password must arrive as written.
# shellcheck disable=SC2016
master='throwaway master; 50% $x'
# The image ships $ODOO_RC world-readable: start.sh must make it private before the password goes in.
: >"$tmp/odoo.conf" && chmod 0644 "$tmp/odoo.conf"
rc=$(odoo_start ODOO_ADMIN_PASSWORD="$master")
perm=$(stat -c %a "$tmp/odoo.conf" 2>/dev/null)
odoo_src=${ODOO_SRC:-/opt/odoo18}
if [ -f "$odoo_src/odoo-bin" ]; then
  # Odoo's own parser: what Odoo 18 will read from the generated file.
  read_back=$(/usr/bin/python3 - "$odoo_src" "$tmp/odoo.conf" "$master" <<'PY' 2>&1
import sys
sys.path.insert(0, sys.argv[1])
from odoo.tools.config import configmanager
config = configmanager()
config.rcfile = sys.argv[2]
config.load()
print(f"list_db={config['list_db']} master={bool(config.verify_admin_password(sys.argv[3]))} admin={bool(config.verify_admin_password('admin'))}")
PY
  )
  how="Odoo's config parser"
else
  read_back="list_db=$(sed -n 's/^list_db = //p' "$tmp/odoo.conf") master=$(grep -qxF "admin_passwd = $master" "$tmp/odoo.conf" && echo True) admin=False"
  how="the file (no Odoo tree at ODOO_SRC)"
fi
if [ "$rc" = 0 ] && [ "$perm" = 600 ] && [ "$read_back" = "list_db=False master=True admin=False" ]; then
  ok "odoo: the generated config (0600) has the database manager off and the master password from .env, per $how"
else ko "odoo: the generated config: start.sh rc $rc, mode $perm, $how reads: $read_back"; fi

# --- mosquitto ------------------------------------------------------------------------------------
# shellcheck source=scripts/compose/check-mosquitto.sh
source scripts/compose/check-mosquitto.sh
check_mosquitto_static
check_mosquitto_start_sh
check_mosquitto_acl

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
