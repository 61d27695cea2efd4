"""Scenes drafted from a plain-words instruction by any OpenAI-compatible chat endpoint (spec/draft.md)."""
