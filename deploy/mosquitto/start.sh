#!/bin/sh
# Mosquitto container start: writes the password file (two logins, passwords from the environment)
# and a private copy of the ACL beside this script into the data directory, then runs its arguments.
#   sh start.sh mosquitto -c /mosquitto/config/mosquitto.conf
# MOSQUITTO_DATA_DIR (default /mosquitto/data) lets the offline check run it outside the container.
set -eu
data=${MOSQUITTO_DATA_DIR:-/mosquitto/data}
worker=${MQTT_WORKER_PASSWORD:?MQTT_WORKER_PASSWORD is not set: the MQTT password of the worker, see .env.example}
devices=${MQTT_DEVICE_PASSWORD:?MQTT_DEVICE_PASSWORD is not set: the MQTT password of the meters, see .env.example}
# Every meter stores its password in plain text: it must not also open the worker's login.
if [ "$worker" = "$devices" ]; then
  echo "MQTT_WORKER_PASSWORD and MQTT_DEVICE_PASSWORD must differ" >&2
  exit 2
fi
umask 077
rm -f "$data/passwd"
mosquitto_passwd -c -b "$data/passwd" worker "$worker"
mosquitto_passwd -b "$data/passwd" devices "$devices"
# Mosquitto warns about (and newer versions refuse) an ACL file that others can read.
cp "$(dirname "$0")/acl" "$data/acl"
chmod 0600 "$data/passwd" "$data/acl"
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
  chown mosquitto:mosquitto "$data/passwd" "$data/acl"
fi
exec "$@"
