#!/usr/bin/env bash
# Validates docker-compose.yaml the way `docker compose config` does, with throwaway secrets filled
# into a copy of .env.example (the real .env is never read). Also checks that a missing secret is an
# error rather than a silent default. Uses `docker compose` when the plugin exists, else Debian's
# docker-compose; prints `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/../.."
if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null; then compose=(docker-compose)
else echo "no docker compose and no docker-compose (apt-get install docker-compose)"; echo "0 passed, 1 failed"; exit 1; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
ko() { echo "FAIL $1"; failed=$((failed + 1)); }

sed -E 's/^(POSTGRES_PASSWORD|MQTT_PASSWORD|WORKER_TOKEN|ODOO_API_KEY)=$/\1=test-secret-value/' .env.example >"$tmp/env"
if "${compose[@]}" --env-file "$tmp/env" -f docker-compose.yaml config -q; then ok "compose file validates"; else ko "compose file validates"; fi

out=$("${compose[@]}" --env-file "$tmp/env" -f docker-compose.yaml config 2>&1)
for svc in db odoo mosquitto worker; do
  if grep -qE "^  $svc:" <<<"$out"; then ok "service $svc defined"; else ko "service $svc defined"; fi
done

: >"$tmp/empty"
if "${compose[@]}" --env-file "$tmp/empty" -f docker-compose.yaml config -q 2>"$tmp/err"; then
  ko "missing secrets are refused"
elif grep -q "set POSTGRES_PASSWORD\|set MQTT_USERNAME\|set WORKER_TOKEN\|set ODOO_API_KEY\|set MQTT_PASSWORD" "$tmp/err"; then
  ok "missing secrets are refused with a message naming them"
else
  ko "missing secrets are refused (unexpected error: $(head -c 300 "$tmp/err"))"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
