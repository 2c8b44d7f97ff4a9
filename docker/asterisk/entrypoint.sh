#!/bin/sh
# Start Asterisk in the foreground with the rendered config; the ARI password comes from the
# environment (never baked into the image, never a default).
set -eu
conf=/srv/ivr/main/etc
case "${IVR_ARI_PASSWORD:-}" in
  "") echo "ivr-asterisk: set IVR_ARI_PASSWORD (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(24))')" >&2; exit 2 ;;
  *[!A-Za-z0-9_.-]*) echo "ivr-asterisk: IVR_ARI_PASSWORD may only hold letters, digits, '.', '_' and '-'" >&2; exit 2 ;;
esac
# ari.conf keeps only a SHA-512 crypt hash (password_format = crypt); perl-base is always installed.
hash=$(IVR_PW="$IVR_ARI_PASSWORD" perl -e 'my @c = ("a".."z", "A".."Z", "0".."9", ".", "/");
  open(my $r, "<", "/dev/urandom") or die; read($r, my $b, 16);
  my $s = join("", map { $c[ord($_) % 64] } split(//, $b)); print crypt($ENV{IVR_PW}, "\$6\$$s\$")')
case "$hash" in
  '$6$'*) ;;
  *) echo "ivr-asterisk: could not hash the ARI password (crypt without SHA-512?)" >&2; exit 2 ;;
esac
sed -i "s|__IVR_ARI_PASSWORD_HASH__|${hash}|" "$conf/ari.conf"
mkdir -p /srv/ivr/main/run /srv/ivr/main/log /srv/ivr/main/spool /srv/ivr/main/lib/cache /srv/ivr/main/sounds
exec /usr/sbin/asterisk -f -n -C "$conf/asterisk.conf"
