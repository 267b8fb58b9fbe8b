"""The scripted participants of simulations and the demo, as data files.

One TOML file per scenario (`<scenario>.toml`): the scenario's families of
values, how each moral context favours them, and the personas. A persona
answers the offline interviewer's four questions in its own voice
(`answers`), may ask for changes once it sees its card (`after_card`), and
carries the card a good articulator would write from those answers (the
offline articulator has no model to get there; see `register_cards`). Its
`family`, `depth` and `leans` are hidden: they shape only how it judges
transition stories (journey.simulation.judge), never what it says.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from values import contracts as card_limits

HERE = Path(__file__).resolve().parent
STYLES = ("slogan", "story", "short", "long", "changes-mind")


class PersonaCard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=card_limits.TITLE_MAX)
    description: str = Field(min_length=1, max_length=card_limits.DESCRIPTION_MAX)
    policies: list[str] = Field(min_length=3, max_length=6)

    @field_validator("policies")
    @classmethod
    def _policies(cls, policies: list[str]) -> list[str]:
        for p in policies:
            head = p.split(" ")[0]
            if not (head.isupper() and len(p) <= card_limits.POLICY_MAX):
                raise ValueError(f"a policy starts with a word in capitals, as in the paper: {p!r}")
        return policies


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z0-9-]+$")
    who: str
    style: str
    family: str
    depth: float = Field(ge=0, le=1)
    leans: dict[str, float] = Field(default_factory=dict)
    answers: list[str] = Field(min_length=4, max_length=4)
    after_card: list[str] = Field(default_factory=list, max_length=2)
    card: PersonaCard

    @field_validator("style")
    @classmethod
    def _style(cls, style: str) -> str:
        if style not in STYLES:
            raise ValueError(f"style is one of {', '.join(STYLES)}")
        return style

    @property
    def signature(self) -> str:
        """The answer that identifies this persona in a transcript (its longest)."""
        return max(self.answers, key=len)

    def __hash__(self) -> int:
        return hash(self.key)


class ContextTheme(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: str = Field(min_length=3)  # a word of the moral context's text
    favours: dict[str, float]


class ScenarioPersonas(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str
    families: list[str] = Field(min_length=2)
    contexts: list[ContextTheme] = Field(default_factory=list)
    personas: list[Persona] = Field(min_length=2)

    @model_validator(mode="after")
    def _known_families(self):
        known = set(self.families)
        for persona in self.personas:
            unknown = ({persona.family} | set(persona.leans)) - known
            if unknown:
                raise ValueError(f"{persona.key}: unknown families {sorted(unknown)}")
        for theme in self.contexts:
            if set(theme.favours) - known:
                raise ValueError(f"context {theme.match!r}: unknown families {sorted(set(theme.favours) - known)}")
        return self

    def favours(self, context_text: str, family: str) -> float:
        """How much a moral context (by its wording) favours a family of values."""
        text = context_text.lower()
        return sum(t.favours.get(family, 0.0) for t in self.contexts if t.match.lower() in text)


@cache
def load() -> dict[str, ScenarioPersonas]:
    """Every scenario's personas, checked: keys, titles and signatures unique across files."""
    out = {}
    for path in sorted(HERE.glob("*.toml")):
        data = ScenarioPersonas.model_validate(tomllib.loads(path.read_text()))
        out[data.scenario] = data
    everyone = [p for s in out.values() for p in s.personas]
    for what, get in (
        ("key", lambda p: p.key),
        ("card title", lambda p: p.card.title.lower()),
        ("signature answer", lambda p: p.signature),
    ):
        seen = [get(p) for p in everyone]
        duplicated = sorted({s for s in seen if seen.count(s) > 1})
        if duplicated:
            raise ValueError(f"persona {what}s must be unique; repeated: {duplicated}")
    return out


def all_personas() -> list[Persona]:
    return [p for s in load().values() for p in s.personas]


def for_scenario(key: str) -> list[Persona]:
    data = load().get(key)
    return list(data.personas) if data else all_personas()


def register_cards() -> None:
    """Tell the offline articulator the card each persona means, so scripted
    participants get readable cards through the real interview (see
    interviews.offline.expect_card)."""
    from interviews import offline  # imported when used: only simulations need it

    for persona in all_personas():
        offline.expect_card(persona.signature, persona.card.model_dump())
