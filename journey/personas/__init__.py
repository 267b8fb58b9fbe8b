"""The scripted participants of simulations and the demo, as data files.

One TOML file per scenario (`<scenario>.toml`): the scenario's families of
values, how each moral context favours them, and the personas. A persona
answers the offline interviewer's four questions in its own voice
(`answers`), may ask for changes once it sees its card (`after_card`), and
carries the card a good articulator would write from those answers (the
offline articulator has no model to get there; see `register_cards`). Its
`family`, `depth` and `leans` are hidden: they shape only how it judges
transition stories (journey.simulation.judge), never what it says.

Personas in another language than English live in `<scenario>.<language>.toml`
(`parenting.es.toml`), sharing the scenario file's families and contexts. Each
names the English persona (`english`) whose card is its card's English
rendering: the offline translator is told so, both ways (`register_cards`), so a
simulated study in several languages gets Spanish cards whose pivot renderings
merge with the English cards that say the same thing.
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
    language: str = "en"
    english: str | None = None  # another language's persona: the English persona with its card's rendering

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


class LanguagePersonas(BaseModel):
    """A scenario's personas in another language (`<scenario>.<language>.toml`)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str
    language: str = Field(pattern=r"^[a-z]{2,3}(-[a-z0-9]+)?$")
    personas: list[Persona] = Field(min_length=1)


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
        if path.name.count(".") == 1:
            data = ScenarioPersonas.model_validate(tomllib.loads(path.read_text()))
            out[data.scenario] = data
    for path in sorted(HERE.glob("*.*.toml")):
        extra = LanguagePersonas.model_validate(tomllib.loads(path.read_text()))
        base = out.get(extra.scenario)
        if base is None:
            raise ValueError(f"{path.name}: no {extra.scenario}.toml for its families")
        english = {p.key: p for p in base.personas if p.language == "en"}
        personas = []
        for persona in extra.personas:
            if persona.english not in english:
                raise ValueError(f"{persona.key}: names no English persona of {extra.scenario} ({persona.english!r})")
            personas.append(persona.model_copy(update={"language": extra.language}))
        # Validated again with the scenario's families, which the language file shares.
        out[extra.scenario] = ScenarioPersonas.model_validate(
            {**base.model_dump(), "personas": [p.model_dump() for p in [*base.personas, *personas]]}
        )
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


def all_personas(language: str | None = "en") -> list[Persona]:
    """The personas speaking `language` (None: every language)."""
    return [p for s in load().values() for p in s.personas if language is None or p.language == language]


def for_scenario(key: str, language: str = "en") -> list[Persona]:
    """The scenario's personas in `language`; none when it has none in that language (another than English)."""
    data = load().get(key)
    if data is None:
        return all_personas(language)
    return [p for p in data.personas if p.language == language]


def languages() -> list[str]:
    """The languages that some persona speaks, English first."""
    return ["en", *sorted({p.language for p in all_personas(None)} - {"en"})]


def english_card(persona: Persona) -> PersonaCard:
    """The card's English rendering: its own card for an English persona, else the card of the English
    persona it names."""
    if persona.english is None:
        return persona.card
    return next(p for p in all_personas() if p.key == persona.english).card


def register_cards() -> None:
    """Tell the offline articulator the card each persona means, so scripted
    participants get readable cards through the real interview (see
    interviews.offline.expect_card)."""
    # Imported when used, as the offline scripts are: only simulations need them.
    from interviews import language as interview_language  # (only simulations need it)
    from interviews import offline  # (only simulations need it)
    from mgeplatform.llm import offline_translation  # (only simulations need it)

    for persona in all_personas(None):
        offline.expect_card(persona.signature, persona.card.model_dump())
        if persona.language != "en":
            card = persona.card.model_dump()
            interview_language.written_in(persona.language, card)
            english = english_card(persona).model_dump()
            offline_translation.expect_translation(card, source=persona.language, target="en", rendering=english)
            # And the other way: a value worded from the English card is shown in this persona's words.
            offline_translation.expect_translation(english, source="en", target=persona.language, rendering=card)
