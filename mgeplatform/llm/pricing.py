"""List prices in USD per million tokens, for cost estimates and budgets.

Each row: (input, cached input read, output, cache write). Cache writes are
Anthropic's 5-minute writes (1.25 × input); OpenAI caches for free, so its
cache write price is its input price. Figures are the providers' published
list prices of late 2026; add rows as studies use new models.

A model with no row is not free: it is counted at FALLBACK_PRICE (the most
expensive row, so a budget is never under-counted) and `is_priced()` lets
the console say so. A local server's model can be priced at zero with
LLM_PRICE_OVERRIDES.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

D = Decimal

PRICES_PER_MILLION: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]] = {
    # Anthropic
    "claude-opus-4-6": (D("5"), D("0.50"), D("25"), D("6.25")),
    "claude-opus-4-5": (D("5"), D("0.50"), D("25"), D("6.25")),
    "claude-opus-4-1": (D("15"), D("1.50"), D("75"), D("18.75")),
    "claude-opus-4": (D("15"), D("1.50"), D("75"), D("18.75")),
    "claude-sonnet-4-6": (D("3"), D("0.30"), D("15"), D("3.75")),
    "claude-sonnet-4-5": (D("3"), D("0.30"), D("15"), D("3.75")),
    "claude-sonnet-4": (D("3"), D("0.30"), D("15"), D("3.75")),
    "claude-haiku-4-5": (D("1"), D("0.10"), D("5"), D("1.25")),
    "claude-3-5-haiku": (D("0.80"), D("0.08"), D("4"), D("1")),
    # OpenAI
    "gpt-5": (D("1.25"), D("0.125"), D("10"), D("1.25")),
    "gpt-5.1": (D("1.25"), D("0.125"), D("10"), D("1.25")),
    "gpt-5-mini": (D("0.25"), D("0.025"), D("2"), D("0.25")),
    "gpt-5-nano": (D("0.05"), D("0.005"), D("0.40"), D("0.05")),
    "gpt-4.1": (D("2"), D("0.50"), D("8"), D("2")),
    "gpt-4.1-mini": (D("0.40"), D("0.10"), D("1.60"), D("0.40")),
    "gpt-4.1-nano": (D("0.10"), D("0.025"), D("0.40"), D("0.10")),
    "gpt-4o": (D("2.50"), D("1.25"), D("10"), D("2.50")),
    "gpt-4o-mini": (D("0.15"), D("0.075"), D("0.60"), D("0.15")),
    "o3": (D("2"), D("0.50"), D("8"), D("2")),
    "o4-mini": (D("1.10"), D("0.275"), D("4.40"), D("1.10")),
    "o3-mini": (D("1.10"), D("0.55"), D("4.40"), D("1.10")),
    "text-embedding-3-small": (D("0.02"), D("0.02"), D("0"), D("0.02")),
    "text-embedding-3-large": (D("0.13"), D("0.13"), D("0"), D("0.13")),
}

# The most expensive row: an unknown model is never counted as cheaper than it may be.
FALLBACK_PRICE = max(PRICES_PER_MILLION.values(), key=lambda p: p[0] + p[2])


def _overrides() -> dict[str, tuple[Decimal, ...]]:
    """LLM_PRICE_OVERRIDES: {"model": [input, cached, output, cache_write]}."""
    raw = getattr(settings, "LLM_PRICE_OVERRIDES", {}) or {}
    return {name: tuple(D(str(v)) for v in (list(values) + [values[0]] * 4)[:4]) for name, values in raw.items()}


def _row(model: str):
    overrides = _overrides()
    for table in (overrides, PRICES_PER_MILLION):
        if model in table:
            return table[model]
    # Dated or suffixed names ("claude-sonnet-4-5-20250929", "gpt-4o-2024-08-06")
    # price like their family: the longest matching family name wins.
    families = [name for table in (overrides, PRICES_PER_MILLION) for name in table if model.startswith(name + "-")]
    if families:
        name = max(families, key=len)
        return overrides.get(name) or PRICES_PER_MILLION[name]
    return None


def is_priced(model: str) -> bool:
    return model.startswith("offline") or _row(model) is not None


def estimate_cost(
    model: str, input_tokens: int, cached_input_tokens: int, output_tokens: int, cache_write_tokens: int = 0
) -> Decimal:
    """Cost of one call. `input_tokens` counts every input token, cached
    reads and cache writes included."""
    if model.startswith("offline"):
        return Decimal("0")
    price_in, price_cached, price_out, price_write = _row(model) or FALLBACK_PRICE
    plain = max(0, input_tokens - cached_input_tokens - cache_write_tokens)
    total = (
        plain * price_in
        + cached_input_tokens * price_cached
        + cache_write_tokens * price_write
        + output_tokens * price_out
    )
    return (total / Decimal(1_000_000)).quantize(Decimal("0.000001"))
