"""Errors raised while getting, starting or stopping an Asterisk."""

from __future__ import annotations


class PbxError(RuntimeError):
    """Asterisk could not be provided; the message says what to fix, in one line."""


class RootBuildError(PbxError):
    """Building the cached Debian sid root with Asterisk failed."""
