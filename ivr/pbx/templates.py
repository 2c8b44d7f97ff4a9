"""Render the ``asterisk_conf/*.conf`` templates (``string.Template``) for one instance.

Standard library only: ``docker/asterisk`` renders with this file outside the package.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "asterisk_conf"


class TemplateError(ValueError):
    """A template names a variable nobody gave, or has a stray ``$``."""


def render_templates(values: Mapping[str, object], template_dir: Path = TEMPLATE_DIR) -> dict[str, str]:
    """Return ``{file name: rendered text}`` for every ``*.conf`` in ``template_dir``."""
    if not template_dir.is_dir():
        raise TemplateError(f"Asterisk config templates not found at {template_dir}")
    text_values = {key: str(value) for key, value in values.items()}
    rendered: dict[str, str] = {}
    for path in sorted(template_dir.glob("*.conf")):
        try:
            rendered[path.name] = string.Template(path.read_text()).substitute(text_values)
        except KeyError as exc:
            raise TemplateError(
                f"{path}: no value for ${exc.args[0]} (write Asterisk's own ${{VAR}} as $${{VAR}})"
            ) from exc
        except ValueError as exc:
            raise TemplateError(f"{path}: {exc} (write a literal $ as $$)") from exc
    return rendered


def write_rendered(rendered: Mapping[str, str], etc_dir: Path, *, mode: int = 0o640) -> None:
    """Write each rendered file into ``etc_dir`` atomically (files hold the ARI password)."""
    etc_dir.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        target = etc_dir / name
        tmp = etc_dir / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
