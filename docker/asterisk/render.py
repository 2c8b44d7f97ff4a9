"""Render asterisk_conf/ for the Asterisk container (build stage; standard library only).

The ARI password is not baked into the image: ari.conf gets a placeholder that the
entrypoint replaces with a SHA-512 crypt hash of IVR_ARI_PASSWORD when the container starts.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_templates_module(path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("ivr_pbx_templates", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--templates", type=Path, default=HERE / "asterisk_conf")
    parser.add_argument("--module", type=Path, default=HERE / "templates.py")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--instance-dir", default="/srv/ivr/main")
    parser.add_argument("--moddir", default="/usr/lib/x86_64-linux-gnu/asterisk/modules")
    parser.add_argument("--app", default="ivr")
    parser.add_argument("--ari-user", default="ivr")
    parser.add_argument("--trunk-match", default="127.0.0.1,172.16.0.0/12,192.168.0.0/16,10.0.0.0/8")
    parser.add_argument("--tone-country", default="jp")
    args = parser.parse_args()
    templates = load_templates_module(args.module)
    values = {
        "name": "main",
        "sip_port": 5060,
        "ari_port": 8088,
        "ari_user": args.ari_user,
        "ari_password": "__IVR_ARI_PASSWORD__",
        "ari_password_hash": "__IVR_ARI_PASSWORD_HASH__",
        "app": args.app,
        "rtp_start": 10000,
        "rtp_end": 10099,
        "instance_dir": args.instance_dir,
        "sounds_dir": f"{args.instance_dir}/sounds",
        "moddir": args.moddir,
        "datadir": "/usr/share/asterisk",
        "bind_address": "0.0.0.0",
        "trunk_match": args.trunk_match,
        "tone_country": args.tone_country,
    }
    templates.write_rendered(templates.render_templates(values, args.templates), args.out)
    print(f"rendered {len(list(args.out.glob('*.conf')))} files into {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
