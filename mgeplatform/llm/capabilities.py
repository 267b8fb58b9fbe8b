"""What each provider's API accepts for a model, so no request carries a
parameter the documented API refuses.

- Anthropic Messages API: the pinned SDK (2.x) and the current API version
  take no sampling parameters (`temperature` is refused), and a prompt is
  cached only when the marked prefix reaches a per-model minimum
  (docs: "Prompt caching", minimum cacheable prompt length).
- OpenAI Chat Completions: `max_tokens` is deprecated in favour of
  `max_completion_tokens`, and reasoning models (o-series, gpt-5) refuse
  `temperature` (docs: Chat Completions API reference, "Reasoning models").
- OpenAI-compatible servers (vLLM, Ollama, llama.cpp) take the older
  `max_tokens` and sampling parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelCapabilities:
    sampling: bool  # accepts temperature
    token_limit_param: str  # the request field that caps the answer's length
    cache_min_tokens: int = 0  # Anthropic: the smallest prefix that is cached (0: no explicit caching)


# Anthropic's minimum cacheable prefix, by model family (longest prefix wins).
ANTHROPIC_CACHE_MINIMUM = {
    "claude-opus-4-6": 4096,
    "claude-opus-4-5": 4096,
    "claude-haiku-4-5": 4096,
    "claude-opus-4-1": 1024,
    "claude-opus-4": 1024,
    "claude-sonnet-4-6": 1024,
    "claude-sonnet-4-5": 1024,
    "claude-sonnet-4": 1024,
    "claude-3-7-sonnet": 1024,
    "claude-3-5-haiku": 2048,
    "claude-3-haiku": 2048,
}
ANTHROPIC_CACHE_MINIMUM_UNKNOWN = 4096  # the largest documented minimum

_OPENAI_REASONING = re.compile(r"^(o\d|gpt-5)")


def _family_value(table: dict[str, int], model: str, default: int) -> int:
    matches = [name for name in table if model == name or model.startswith(name + "-")]
    return table[max(matches, key=len)] if matches else default


def capabilities(provider: str, model: str) -> ModelCapabilities:
    if provider == "anthropic":
        return ModelCapabilities(
            sampling=False,
            token_limit_param="max_tokens",
            cache_min_tokens=_family_value(ANTHROPIC_CACHE_MINIMUM, model, ANTHROPIC_CACHE_MINIMUM_UNKNOWN),
        )
    if provider == "openai":
        return ModelCapabilities(sampling=not _OPENAI_REASONING.match(model), token_limit_param="max_completion_tokens")
    return ModelCapabilities(sampling=True, token_limit_param="max_tokens")
