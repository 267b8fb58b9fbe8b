"""Tokens and cost per participant with translation, as a ratio to English only (issue 27).

    MGE_DEV=1 .venv/bin/python bench/translation_cost.py [--n 24] [--model claude-sonnet-4-5]

Simulates `--n` participants (the offline interviewer, the scripted personas)
on the case study's parenting question twice, in a transaction that is rolled
back: once in a study in English only, once in a study in English and Spanish,
where about half the personas speak Spanish. Every model call is recorded as a
real one is (mgeplatform.models.LLMCall, tokens estimated at 4 characters a
token by the offline provider); the figures are read back from those records
and priced with the platform's price table at `--model`.

Printed per participant: input and output tokens, by purpose, for the English
participants of the English-only study, and for the Spanish and English
participants of the bilingual one; the study-level calls (deduplication,
stories, the renderings of canonical values into the other language) divided
by the study's participants; and the ratio of the bilingual study's cost per
participant to the English-only study's. Offline figures: the prompts' real
length, the replies' length is the scripts', not a model's.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import transaction  # noqa: E402

from journey import simulation  # noqa: E402
from mgeplatform.llm.pricing import estimate_cost  # noqa: E402
from mgeplatform.models import LLMCall  # noqa: E402
from studies import services  # noqa: E402
from studies.models import Participant, Scenario  # noqa: E402


class Rollback(Exception):
    pass


def study_figures(slug: str, languages: list[str], n: int, model: str) -> dict:
    study, _ = services.seed_case_study(slug=slug, study_languages=languages)
    Scenario.objects.filter(study=study).exclude(key="parenting").update(active=False)
    simulation.simulate(study, n, seed=1)
    language_of = dict(Participant.objects.filter(study=study).values_list("pk", "language"))
    per_language: dict[str, dict] = defaultdict(lambda: {"input": 0, "output": 0, "cost": Decimal(0), "purposes": {}})
    shared = {"input": 0, "output": 0, "cost": Decimal(0), "purposes": {}}
    for call in LLMCall.objects.filter(study_id=study.pk).values(
        "participant", "purpose", "input_tokens", "output_tokens"
    ):
        bucket = per_language[language_of[call["participant"]]] if call["participant"] in language_of else shared
        cost = estimate_cost(model, call["input_tokens"], 0, call["output_tokens"])
        bucket["input"] += call["input_tokens"]
        bucket["output"] += call["output_tokens"]
        bucket["cost"] += cost
        purposes = bucket["purposes"]
        purposes[call["purpose"]] = purposes.get(call["purpose"], 0) + call["input_tokens"] + call["output_tokens"]
    people = {code: sum(1 for lang in language_of.values() if lang == code) for code in set(language_of.values())}
    return {"per_language": dict(per_language), "shared": shared, "people": people, "n": len(language_of)}


def show(name: str, figures: dict) -> Decimal:
    print(f"\n{name}: {figures['n']} participants {figures['people']}")
    total = Decimal(0)
    for code, bucket in sorted(figures["per_language"].items()):
        k = figures["people"][code]
        total += bucket["cost"]
        print(
            f"  {code} participant: {bucket['input'] / k:,.0f} input + {bucket['output'] / k:,.0f} output tokens, "
            f"${bucket['cost'] / k:.4f}"
        )
        for purpose, tokens in sorted(bucket["purposes"].items()):
            print(f"      {purpose}: {tokens / k:,.0f} tokens")
    shared = figures["shared"]
    total += shared["cost"]
    print(
        f"  study-level calls, per participant: {shared['input'] / figures['n']:,.0f} input + "
        f"{shared['output'] / figures['n']:,.0f} output tokens, ${shared['cost'] / figures['n']:.4f}"
    )
    for purpose, tokens in sorted(shared["purposes"].items()):
        print(f"      {purpose}: {tokens / figures['n']:,.0f} tokens")
    per_participant = total / figures["n"]
    tokens = (
        sum(b["input"] + b["output"] for b in figures["per_language"].values()) + shared["input"] + shared["output"]
    ) / figures["n"]
    print(f"  all calls, per participant: {tokens:,.0f} tokens, ${per_participant:.4f}")
    return per_participant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--model", default="claude-sonnet-4-5", help="priced with the platform's price table")
    args = parser.parse_args()
    try:
        with transaction.atomic():
            english = study_figures("bench-translation-en", ["en"], args.n, args.model)
            bilingual = study_figures("bench-translation-en-es", ["en", "es"], args.n, args.model)
            raise Rollback
    except Rollback:
        pass
    print(f"priced as {args.model} (offline token estimates: 4 characters a token)")
    english_cost = show("English only", english)
    bilingual_cost = show("English and Spanish", bilingual)
    es, en = bilingual["per_language"].get("es"), english["per_language"].get("en")
    if es and en:
        es_cost = es["cost"] / bilingual["people"]["es"]
        en_cost = en["cost"] / english["people"]["en"]
        print(f"\nratio, a Spanish participant's own calls to an English one's: {es_cost / en_cost:.2f}")
    print(f"ratio, the bilingual study per participant to English only: {bilingual_cost / english_cost:.2f}")


if __name__ == "__main__":
    main()
