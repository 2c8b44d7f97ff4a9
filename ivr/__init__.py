"""Contact-center IVR controller: drives Asterisk calls over ARI."""

__version__ = "0.1.0"
