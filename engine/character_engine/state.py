"""What the engine keeps between requests: loaded models, stored prompt prefixes and
embedding models. One EngineState is created per process (server.py at start-up, or
serve/ for the OpenAI-compatible server) and reaches handlers as `ctx.state`; nothing
in the engine keeps such state in module globals."""

from __future__ import annotations

from dataclasses import dataclass, field

from .generation.prefix_cache import PrefixCache
from .models.cache import ModelCache
from .scoring.embeddings import EmbedderCache


@dataclass
class EngineState:
    models: ModelCache = field(default_factory=ModelCache)
    prefixes: PrefixCache = field(default_factory=PrefixCache)
    embedders: EmbedderCache = field(default_factory=EmbedderCache)
