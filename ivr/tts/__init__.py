"""Prompts to audio: ``PromptRenderer`` turns flow prompts into ARI media URIs (see docs/internals.md)."""
