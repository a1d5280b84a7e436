# shellcheck shell=bash disable=SC2154  # sourced by check-config.sh: tmp and rendered are its own
# Mosquitto part of check-config.sh (sourced: uses its ok/ko, $tmp and $rendered). Runs the stack's
# own deploy/mosquitto/start.sh and a real Debian mosquitto with the stack's mosquitto.conf and ACL
# (paths and listener rewritten) on a free loopback port, then checks who may publish and read what
# with mosquitto_pub/mosquitto_sub. Needs the mosquitto and mosquitto-clients packages.

mq_conf=deploy/mosquitto/mosquitto.conf
mq_dir="$tmp/mosquitto"
declare -A mq_pass=([worker]=throwaway-worker-password [devices]=throwaway-devices-password)

check_mosquitto_static() {
  local conf
  conf=$(grep -v '^#' "$mq_conf")
  if grep -qx 'allow_anonymous false' <<<"$conf" && ! grep -q 'allow_anonymous true' <<<"$conf"; then
    ok "mosquitto: allow_anonymous false"
  else ko "mosquitto: allow_anonymous false ($mq_conf)"; fi
  if grep -qx 'password_file /mosquitto/data/passwd' <<<"$conf" && grep -qx 'acl_file /mosquitto/data/acl' <<<"$conf"; then
    ok "mosquitto: password file and ACL file, both written by start.sh"
  else ko "mosquitto: password_file /mosquitto/data/passwd and acl_file /mosquitto/data/acl ($mq_conf)"; fi
  local svc
  svc=$(service_block mosquitto)
  if grep -qx "mosquitto $PWD/deploy/mosquitto /mosquitto/config ro" <<<"$(entries volumes "$rendered")" \
    && grep -A1 -- '- sh' <<<"$svc" | grep -q -- '- /mosquitto/config/start.sh' \
    && grep -q 'MQTT_WORKER_PASSWORD: throwaway-MQTT_WORKER_PASSWORD' <<<"$svc" \
    && grep -q 'MQTT_DEVICE_PASSWORD: throwaway-MQTT_DEVICE_PASSWORD' <<<"$svc"; then
    ok "mosquitto: compose mounts deploy/mosquitto and starts through start.sh with both passwords from .env"
  else ko "mosquitto: compose mounts deploy/mosquitto and starts through start.sh with both passwords from .env"; fi
  # The worker's persistent session only bridges a restart if the broker queues the meters' QoS 0
  # publishes for it, enough of them, for long enough.
  local queued expiry
  queued=$(sed -n 's/^max_queued_messages \([0-9]*\)$/\1/p' <<<"$conf")
  expiry=$(sed -n 's/^persistent_client_expiration \([0-9]*[hdwmy]\)$/\1/p' <<<"$conf")
  if grep -qx 'queue_qos0_messages true' <<<"$conf" && [ "${queued:-0}" -ge 100000 ] && [ -n "$expiry" ]; then
    ok "mosquitto: queues QoS 0 for the worker's persistent session (max_queued_messages $queued, expiry $expiry)"
  else ko "mosquitto: queue_qos0_messages true, max_queued_messages >= 100000, persistent_client_expiration set ($mq_conf)"; fi
}

# With the stack's config running: QoS 0 readings published while the worker's persistent session
# is offline are delivered, in order, when it comes back (the last one at QoS 1: when mosquitto_pub
# returns, the broker has queued everything before it).
check_mosquitto_queue() {
  local sub=(-p "$mq_port" -u worker -P "${mq_pass[worker]}" -i wiot-compose-check -c -q 1 -t meters/queued)
  local got
  if ! mosquitto_sub "${sub[@]}" -E 2>/dev/null; then ko "mosquitto: a persistent session subscribes"; return; fi
  mosquitto_pub -p "$mq_port" -u devices -P "${mq_pass[devices]}" -q 0 -t meters/queued -m r1
  mosquitto_pub -p "$mq_port" -u devices -P "${mq_pass[devices]}" -q 0 -t meters/queued -m r2
  mq_pub devices -t meters/queued -m r3
  got=$(mosquitto_sub "${sub[@]}" -C 3 -W 5 2>/dev/null | tr '\n' ' ')
  if [ "$got" = "r1 r2 r3 " ]; then ok "mosquitto: QoS 0 readings wait for the worker's offline persistent session, in order"
  else ko "mosquitto: QoS 0 readings wait for the worker's offline persistent session, in order (got: '$got')"; fi
}

# Runs start.sh with the given environment; prints its exit code.
mq_start_sh() {
  env -i PATH="$PATH" MOSQUITTO_DATA_DIR="$mq_dir" "$@" sh deploy/mosquitto/start.sh true >/dev/null 2>&1
  echo $?
}

check_mosquitto_start_sh() {
  mkdir -p "$mq_dir"
  [ -f deploy/mosquitto/start.sh ] || ko "mosquitto: deploy/mosquitto/start.sh exists"
  local w="MQTT_WORKER_PASSWORD=${mq_pass[worker]}" d="MQTT_DEVICE_PASSWORD=${mq_pass[devices]}"
  if [ "$(mq_start_sh "$w")" != 0 ] && [ "$(mq_start_sh "$d")" != 0 ] \
    && [ "$(mq_start_sh "$w" MQTT_DEVICE_PASSWORD=)" != 0 ]; then
    ok "mosquitto start.sh refuses a missing password"
  else ko "mosquitto start.sh refuses a missing password"; fi
  if [ "$(mq_start_sh "$w" "MQTT_DEVICE_PASSWORD=${mq_pass[worker]}")" != 0 ]; then
    ok "mosquitto start.sh refuses one password for both logins"
  else ko "mosquitto start.sh refuses one password for both logins"; fi
  local rc users
  rc=$(mq_start_sh "$w" "$d")
  users=$(cut -d: -f1 "$mq_dir/passwd" 2>/dev/null | sort | tr '\n' ' ')
  if [ "$rc" = 0 ] && [ "$users" = "devices worker " ] && [ "$(stat -c %a "$mq_dir/passwd")" = 600 ] \
    && ! grep -q 'throwaway' "$mq_dir/passwd" && cmp -s deploy/mosquitto/acl "$mq_dir/acl"; then
    ok "mosquitto start.sh writes a hashed password file (logins worker, devices; 0600) and the ACL"
  else ko "mosquitto start.sh writes a hashed password file (rc $rc, logins: $users) and the ACL"; fi
}

mq_python=/usr/bin/python3
[ -x "$mq_python" ] || mq_python=python3
mq_free_port() {
  "$mq_python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts mosquitto on the files start.sh wrote; sets mq_port and mq_pid.
mq_broker_start() {
  mq_port=$(mq_free_port)
  sed -e "s#/mosquitto/data/#$mq_dir/#" -e "s/^listener .*/listener $mq_port 127.0.0.1/" \
    -e 's/^persistence true/persistence false/' -e 's/^log_dest .*/log_dest stderr/' "$mq_conf" >"$mq_dir/test.conf"
  # As root mosquitto would switch to user mosquitto, which cannot enter this private directory.
  [ "$(id -u)" = 0 ] && echo 'user root' >>"$mq_dir/test.conf"
  mosquitto -c "$mq_dir/test.conf" 2>"$mq_dir/log" &
  mq_pid=$!
  local _
  for _ in $(seq 100); do
    grep -q ' running' "$mq_dir/log" && return 0
    kill -0 "$mq_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "mosquitto did not start: $(cat "$mq_dir/log")"
  return 1
}

mq_pub() { # mq_pub LOGIN mosquitto_pub-args...
  local who=$1
  shift
  mosquitto_pub -p "$mq_port" -u "$who" -P "${mq_pass[$who]}" -q 1 "$@"
}

# exchange SUBSCRIBER MARKER_LOGIN MARKER_TOPIC LOGIN=TOPIC...: SUBSCRIBER subscribes to '#'; each
# LOGIN publishes its TOPIC in order (QoS 1: mosquitto has routed it when mosquitto_pub returns);
# prints the topics SUBSCRIBER received, one a line. MARKER_LOGIN's retained marker tells that the
# subscription is active, its final marker that everything before it has been delivered: no sleeps.
exchange() {
  local sub=$1 marker_login=$2 marker=$3 line pid item
  shift 3
  rm -f "$tmp/fifo" && mkfifo "$tmp/fifo"
  mq_pub "$marker_login" -r -t "$marker" -m ready
  mosquitto_sub -p "$mq_port" -u "$sub" -P "${mq_pass[$sub]}" -q 1 -v -t '#' >"$tmp/fifo" 2>/dev/null &
  pid=$!
  exec 3<"$tmp/fifo"
  while read -r -t 10 line <&3 && [ "$line" != "$marker ready" ]; do :; done
  for item in "$@"; do mq_pub "${item%%=*}" -t "${item#*=}" -m x; done
  mq_pub "$marker_login" -t "$marker" -m "done"
  while read -r -t 10 line <&3 && [ "$line" != "$marker done" ]; do
    [ "$line" != "$marker ready" ] && echo "${line% x}"
  done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  exec 3<&-
  mq_pub "$marker_login" -r -n -t "$marker"
}

# expect NAME RECEIVED WANTED...: RECEIVED (one topic a line) must be exactly WANTED, in order.
expect_topics() {
  local name=$1 received=$2
  shift 2
  local wanted
  wanted=$(printf '%s\n' "$@")
  if [ "$received" = "$wanted" ]; then ok "$name"; else
    ko "$name: received [$(tr '\n' ' ' <<<"$received")], expected [$(tr '\n' ' ' <<<"$wanted")]"
  fi
}

check_mosquitto_acl() {
  if ! command -v mosquitto >/dev/null || ! command -v mosquitto_sub >/dev/null; then
    ko "mosquitto ACL: mosquitto and mosquitto-clients missing (apt-get install mosquitto mosquitto-clients)"
    return
  fi
  mq_broker_start || { ko "mosquitto ACL: broker with the stack's config starts"; return; }
  if ! mosquitto_pub -p "$mq_port" -t meters/x -m x 2>/dev/null; then ok "mosquitto refuses an anonymous client"
  else ko "mosquitto refuses an anonymous client"; fi
  if ! mosquitto_pub -p "$mq_port" -u devices -P "${mq_pass[worker]}" -t meters/x -m x 2>/dev/null \
    && ! mosquitto_pub -p "$mq_port" -u worker -P "${mq_pass[devices]}" -t meters/x -m x 2>/dev/null; then
    ok "mosquitto: each login has its own password"
  else ko "mosquitto: each login has its own password"; fi

  local telemetry=(shellies/d1/relay/0 shellies/d1/relay/0/power shellies/d1/relay/0/energy shellies/d1/online
    shellies/d1/info d2/status/switch:0 d2/events/rpc d2/online d2/poll/rpc tele/d3/SENSOR tele/d3/LWT
    stat/d3/STATUS8 meters/d4 shellies/announce d2/discovery/rpc tasmota/discovery/AABBCCDDEEFF/config
    tasmota/discovery/AABBCCDDEEFF/sensors zigbee2mqtt/bridge/devices zigbee2mqtt/Office\ plug
    d5/sensor/power/state d5/text_sensor/badge/state d5/status)
  local commands=(shellies/d1/command shellies/d1/relay/0/command d2/rpc d2/command cmnd/d3/POWER cmnd/d3/STATUS)
  local got items=() t
  for t in "${telemetry[@]}" "${commands[@]}"; do items+=("devices=$t"); done
  got=$(exchange worker devices meters/check-ready "${items[@]}")
  expect_topics "mosquitto: meters publish telemetry (Shelly Gen1/Gen2, Tasmota, JSON), never a command" \
    "$got" "${telemetry[@]}"

  local polls=(shellies/d1/command shellies/command d2/rpc cmnd/d3/STATUS)
  got=$(exchange devices worker cmnd/check/STATUS "${polls[@]/#/worker=}" \
    worker=cmnd/d3/POWER worker=shellies/d1/relay/0/command worker=d2/command)
  expect_topics "mosquitto: the worker sends polls to the meters and cannot switch a relay" "$got" "${polls[@]}"
  got=$(exchange devices worker cmnd/check/STATUS "${telemetry[@]/#/devices=}")
  expect_topics "mosquitto: a meter cannot read other meters' telemetry" "$got"
  # The worker's own availability and machine summaries (mqtt_status): only the worker writes them.
  local own=(workshop-iot/w1/status workshop-iot/w1/machines/m1 workshop-iot/status/status)
  got=$(exchange worker devices meters/check-ready "${own[@]/#/worker=}" "${own[@]/#/devices=}")
  expect_topics "mosquitto: the worker publishes its status and machine summaries, a meter cannot" \
    "$got" "${own[@]}"
  check_mosquitto_queue

  kill "$mq_pid" 2>/dev/null
  wait "$mq_pid" 2>/dev/null
}
