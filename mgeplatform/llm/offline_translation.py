"""Offline script for the translator prompt: a small Spanish–English
glossary applied phrase by phrase (longest first), so tests and demos
without a key get a rendering they can read and deduplicate. Words the
glossary does not know are kept as written; a language pair it has no
glossary for comes back unchanged, which the service still records as a
rendering (the model call and its prompt are in the record). It is not a
translator, and the LLM call's provider says so."""

from __future__ import annotations

import json
import re

from mgeplatform.llm.types import ChatRequest, ToolCall

# Spanish → English. Multi-word entries first where a word-by-word reading would go wrong.
ES_EN = {
    # policy heads
    "momentos": "moments",
    "oportunidades": "opportunities",
    "señales": "signs",
    "sentimientos": "feelings",
    "preguntas": "questions",
    "conversaciones": "conversations",
    "opciones": "options",
    "decisiones": "decisions",
    "personas": "people",
    "formas": "ways",
    "maneras": "ways",
    "acciones": "actions",
    "elecciones": "choices",
    "lo que": "what",
    # phrases
    "en que": "when",
    "en los que": "when",
    "se siente": "feels",
    "se sienten": "feel",
    "hace preguntas": "asks questions",
    "por sí mismo": "on their own",
    "por sí misma": "on their own",
    "por su cuenta": "on their own",
    "tiene derecho": "has the right",
    "la persona dijo que importa": "the person said matters",
    "el asistente debería": "the assistant should",
    "debería": "should",
    "de la persona": "of the person",
    "del niño": "of the child",
    "de la niña": "of the child",
    "a su propio ritmo": "at their own pace",
    "su propio ritmo": "their own pace",
    # words
    "cuando": "when",
    "el": "the",
    "la": "the",
    "los": "the",
    "las": "the",
    "un": "a",
    "una": "a",
    "de": "of",
    "del": "of the",
    "y": "and",
    "o": "or",
    "que": "that",
    "para": "to",
    "con": "with",
    "sin": "without",
    "en": "in",
    "su": "their",
    "sus": "their",
    "propio": "own",
    "propia": "own",
    "propios": "own",
    "niño": "child",
    "niña": "child",
    "niños": "children",
    "hijo": "son",
    "hija": "daughter",
    "persona": "person",
    "gente": "people",
    "familia": "family",
    "amigos": "friends",
    "padres": "parents",
    "pasiones": "passions",
    "intereses": "interests",
    "interés": "interest",
    "curiosidad": "curiosity",
    "seguir": "follow",
    "sigue": "follows",
    "escuchada": "heard",
    "escuchado": "heard",
    "escucha": "listens",
    "respeto": "respect",
    "respetada": "respected",
    "respetado": "respected",
    "honestidad": "honesty",
    "honesta": "honest",
    "honesto": "honest",
    "verdad": "truth",
    "confianza": "trust",
    "segura": "safe",
    "seguro": "safe",
    "seguridad": "safety",
    "miedo": "fear",
    "miedos": "fears",
    "libertad": "freedom",
    "autonomía": "autonomy",
    "dignidad": "dignity",
    "fe": "faith",
    "apoyo": "support",
    "ayuda": "help",
    "tiempo": "time",
    "pensar": "think",
    "decidir": "decide",
    "elegir": "choose",
    "elige": "chooses",
    "decide": "decides",
    "importa": "matters",
    "importan": "matter",
    "cuidado": "care",
    "información": "information",
    "hechos": "facts",
    "clara": "clear",
    "claro": "clear",
    "difícil": "hard",
    "difíciles": "hard",
    "elección": "choice",
    "decisión": "decision",
    "valor": "value",
    "valores": "values",
    "vida": "life",
    "todos": "everyone",
    "afectados": "affected",
    "otros": "others",
    "sí": "yes",
    "no": "not",
    "mi": "my",
    "me": "me",
    "yo": "I",
    "es": "is",
    "son": "are",
    "cuenta": "counts",
    "tarjeta": "card",
    "pregunta": "asks",
    "plantea": "asks",
    "plantean": "ask",
}
EN_ES = {en: es for es, en in reversed(list(ES_EN.items()))}
# Where two Spanish words give one English word, the reverse keeps the first and plainest.
EN_ES.update({"the": "el", "when": "cuando", "of": "de", "own": "propio", "their": "su", "what": "lo que"})
GLOSSARIES = {("es", "en"): ES_EN, ("en", "es"): EN_ES}
LONGEST = 6
TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*|\s+|.", re.S)


def _cased(source: str, target: str) -> str:
    if len(source) > 1 and source.isupper():
        return target.upper()
    if source[:1].isupper():
        return target[:1].upper() + target[1:]
    return target


def translate_text(text: str, source: str, target: str) -> str:
    """The text with every phrase the glossary knows put into the target language."""
    glossary = GLOSSARIES.get((source.split("-")[0], target.split("-")[0]))
    if not glossary or not text:
        return text
    tokens = TOKEN.findall(text)
    words = [i for i, t in enumerate(tokens) if t.strip() and (t[0].isalpha())]
    out, i = [], 0
    while i < len(tokens):
        if i not in words:
            out.append(tokens[i])
            i += 1
            continue
        at = words.index(i)
        for n in range(min(LONGEST, len(words) - at), 0, -1):
            span = words[at : at + n]
            # only words separated by plain spaces make a phrase
            if any(tokens[j] != " " for k in range(len(span) - 1) for j in range(span[k] + 1, span[k + 1])):
                continue
            phrase = " ".join(tokens[j].lower() for j in span)
            if phrase in glossary:
                out.append(_cased(tokens[span[0]], glossary[phrase]))
                i = span[-1] + 1
                break
        else:
            out.append(tokens[i])
            i += 1
    return "".join(out)


def _request_fields(text: str) -> tuple[str, str, dict]:
    source = re.search(r"^From: (\S+)$", text, re.M)
    target = re.search(r"^Into: (\S+)$", text, re.M)
    title = re.search(r"^Title: (.*)$", text, re.M)
    description = re.search(r"^Description: (.*)$", text, re.M)
    policies = re.findall(r"^- (.*)$", text.partition("Attentional policies:")[2], re.M)
    return (
        source.group(1) if source else "",
        target.group(1) if target else "",
        {
            "title": title.group(1) if title else "",
            "description": description.group(1) if description else "",
            "policies": policies,
        },
    )


# Renderings the script is told (the scripted participants' cards and their English versions,
# journey/personas): {(source, target, wording): rendering}.
_EXPECTED: dict[tuple[str, str, str], dict] = {}


def _wording(card: dict) -> str:
    return json.dumps([card["title"], card["description"], list(card["policies"])], ensure_ascii=False)


def expect_translation(card: dict, *, source: str, target: str, rendering: dict) -> None:
    """Render this very wording of a card as `rendering` rather than through the glossary."""
    _EXPECTED[(source, target, _wording(card))] = {**rendering, "policies": list(rendering["policies"])}


def translator(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    text = request.messages[-1].content if request.messages else ""
    source, target, card = _request_fields(text)
    expected = _EXPECTED.get((source.split("-")[0], target.split("-")[0], _wording(card)))
    if expected is not None:
        return json.dumps(expected, ensure_ascii=False), []
    return (
        json.dumps(
            {
                "title": translate_text(card["title"], source, target),
                "description": translate_text(card["description"], source, target),
                "policies": [translate_text(p, source, target) for p in card["policies"]],
            },
            ensure_ascii=False,
        ),
        [],
    )
