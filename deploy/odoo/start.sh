#!/bin/sh
# Odoo container start: writes Odoo's config file ($ODOO_RC) from the odoo.conf beside this script
# plus `admin_passwd` from ODOO_ADMIN_PASSWORD, then runs its arguments (the image's entrypoint).
#   sh start.sh /entrypoint.sh odoo -d workshop ...
# The file is private to the odoo user (mode 0600): it holds the master password.
set -eu
rc=${ODOO_RC:?ODOO_RC is not set (the odoo image sets it to /etc/odoo/odoo.conf)}
password=${ODOO_ADMIN_PASSWORD:?ODOO_ADMIN_PASSWORD is not set: the Odoo master password, see .env.example}
# Odoo's config parser would read another line as another option, and strips spaces at both ends.
case $password in
  *'
'* | *"$(printf '\r')"*) echo "ODOO_ADMIN_PASSWORD must be a single line" >&2; exit 2 ;;
  [[:space:]]* | *[[:space:]]) echo "ODOO_ADMIN_PASSWORD must not start or end with a space" >&2; exit 2 ;;
  admin) echo "ODOO_ADMIN_PASSWORD must not be 'admin' (Odoo's well-known default)" >&2; exit 2 ;;
esac
umask 077
: >"$rc"
chmod 0600 "$rc"
{
  cat "$(dirname "$0")/odoo.conf"
  printf 'admin_passwd = %s\n' "$password"
} >"$rc"
exec "$@"
