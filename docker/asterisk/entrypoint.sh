#!/bin/sh
# Start Asterisk in the foreground with the rendered config; the ARI password comes from the
# environment (never baked into the image, never a default).
set -eu
conf=/srv/ivr/main/etc
case "${IVR_ARI_PASSWORD:-}" in
  "") echo "ivr-asterisk: set IVR_ARI_PASSWORD (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(24))')" >&2; exit 2 ;;
  *[!A-Za-z0-9_.-]*) echo "ivr-asterisk: IVR_ARI_PASSWORD may only hold letters, digits, '.', '_' and '-'" >&2; exit 2 ;;
esac
sed -i "s|__IVR_ARI_PASSWORD__|${IVR_ARI_PASSWORD}|" "$conf/ari.conf"
mkdir -p /srv/ivr/main/run /srv/ivr/main/log /srv/ivr/main/spool /srv/ivr/main/lib/cache /srv/ivr/main/sounds
exec /usr/sbin/asterisk -f -n -C "$conf/asterisk.conf"
