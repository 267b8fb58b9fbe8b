"""Does the interviewer's prompt reach Anthropic's cache minimum?

    MGE_DEV=1 .venv/bin/python bench/prompt_cache.py

Prints the interviewer's cacheable prefix (system prompt and tool schemas,
estimated as the provider estimates it, 4 characters a token) for each
scenario of the case study, beside each Claude model's documented minimum,
and whether the provider marks it for caching. Measured cache reads of a
running study are on its live console ("Input tokens: ..., read from the
provider's prompt cache").
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from interviews.services import TOOLS, interviewer_prompt  # noqa: E402
from mgeplatform.llm.capabilities import ANTHROPIC_CACHE_MINIMUM, capabilities  # noqa: E402
from mgeplatform.llm.providers.offline import approx_tokens  # noqa: E402
from studies import case_study  # noqa: E402


def main() -> None:
    tools = [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in TOOLS]
    prompt = interviewer_prompt()
    print(f"interviewer prompt v{prompt.version}; tool schemas ~{approx_tokens(json.dumps(tools))} tokens")
    for key, _title, text in case_study.SCENARIOS:
        system = prompt.render(scenario_prompt=text, language="en", language_name="English")
        prefix = approx_tokens(system) + approx_tokens(json.dumps(tools))
        minimums = {model: capabilities("anthropic", model).cache_min_tokens for model in ANTHROPIC_CACHE_MINIMUM}
        marks = ", ".join(
            f"{model} {'cached' if prefix >= minimum else 'below'} ({minimum})" for model, minimum in minimums.items()
        )
        print(f"  {key}: prefix ~{prefix} tokens -> {marks}")


if __name__ == "__main__":
    main()
