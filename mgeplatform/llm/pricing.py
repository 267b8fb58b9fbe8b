"""Rough list prices in USD per million tokens, for cost estimates only.

(input, cached input, output). Unknown models get no estimate rather than
a wrong one; add rows as studies use new models.
"""

from decimal import Decimal

PRICES_PER_MILLION = {
    "claude-sonnet-4-5": (Decimal("3"), Decimal("0.30"), Decimal("15")),
    "claude-haiku-4-5": (Decimal("1"), Decimal("0.10"), Decimal("5")),
    "claude-opus-4-1": (Decimal("15"), Decimal("1.50"), Decimal("75")),
    "gpt-4o": (Decimal("2.50"), Decimal("1.25"), Decimal("10")),
    "gpt-4o-mini": (Decimal("0.15"), Decimal("0.075"), Decimal("0.60")),
    "gpt-4.1": (Decimal("2"), Decimal("0.50"), Decimal("8")),
    "gpt-4.1-mini": (Decimal("0.40"), Decimal("0.10"), Decimal("1.60")),
    "text-embedding-3-small": (Decimal("0.02"), Decimal("0.02"), Decimal("0")),
}


def estimate_cost(model: str, input_tokens: int, cached_input_tokens: int, output_tokens: int) -> Decimal | None:
    prices = PRICES_PER_MILLION.get(model)
    if prices is None:
        # Dated model names ("claude-sonnet-4-5-20250929") price like their family.
        prices = next((p for name, p in PRICES_PER_MILLION.items() if model.startswith(name + "-")), None)
    if prices is None:
        return Decimal("0") if model.startswith("offline") else None
    price_in, price_cached, price_out = prices
    uncached = max(0, input_tokens - cached_input_tokens)
    total = uncached * price_in + cached_input_tokens * price_cached + output_tokens * price_out
    return (total / Decimal(1_000_000)).quantize(Decimal("0.000001"))
