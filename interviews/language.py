"""The interviewer and the card writer speak the participant's language (issue 27).

Both prompts take the language as `{{language}}` (a BCP-47 code) and
`{{language_name}}`; `prompt_language(participant)` gives them. The offline
scripts are written in English: `speaking` and `writing` wrap them so that a
participant in a language with canned phrasings (`PHRASES`: Spanish) hears
the scripted interviewer in it and gets their card in it. The wrapper reads
the language back from the prompt, shows the English script an English view
of the conversation (its own earlier turns and the participant's short
answers, "sí", "llámala ...", put back into English) and puts the script's
answer into the participant's language. A language with no phrasings gets
the English script; the instruction is in the recorded prompt all the same."""

from __future__ import annotations

import dataclasses
import json
import re

from mgeplatform.llm.offline_translation import translate_text
from mgeplatform.llm.types import ChatRequest, Message, ToolCall
from studies import languages

LANGUAGE_IN_PROMPT = re.compile(r"\(BCP-47 code ([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\)")


def prompt_language(participant) -> dict:
    """The prompt variables naming the participant's language."""
    code = languages.participant_language(participant)
    return {"language": code, "language_name": languages.language_name(code)}


def requested_language(request: ChatRequest) -> str:
    match = LANGUAGE_IN_PROMPT.search(request.system or "")
    return match.group(1).lower() if match else "en"


# The offline interviewer's sentences, in English (as interviews/offline/interviewer.py writes them) and in the
# participant's language. Longest first when applied, so a sentence is never half replaced.
PHRASES: dict[str, list[tuple[str, str]]] = {
    "es": [
        ("This card, titled \u201c", "Esta tarjeta, titulada \u201c"),
        (
            "\u201d, is my attempt to capture what you've shared about what you pay attention to.",
            "\u201d, es mi intento de recoger lo que has contado sobre aquello a lo que prestas atenci\u00f3n.",
        ),
        (
            "Does it fit what you care about, or is there anything you would change?",
            "\u00bfEncaja con lo que te importa, o hay algo que cambiar\u00edas?",
        ),
        (
            "You can give it a new title (\u201ccall it \u2026\u201d), drop a point (\u201cdrop the second "
            "point\u201d) or add one (\u201cadd \u2026\u201d).",
            "Puedes darle otro t\u00edtulo (\u201cll\u00e1mala \u2026\u201d), quitar un punto (\u201cquita el "
            "segundo punto\u201d) o a\u00f1adir uno (\u201ca\u00f1ade \u2026\u201d).",
        ),
        (
            "Thank you for submitting your value. Your input helps us understand how an assistant should respond.",
            "Gracias por enviar tu valor. Tu aportaci\u00f3n nos ayuda a entender c\u00f3mo deber\u00eda "
            "responder un asistente.",
        ),
        (
            "I'd like to understand a little more before writing this up.",
            "Me gustar\u00eda entender un poco m\u00e1s antes de escribirlo.",
        ),
        (
            "When you faced a choice like this, what did you look for or notice first?",
            "Cuando te enfrentaste a una decisi\u00f3n as\u00ed, \u00bfqu\u00e9 buscaste o qu\u00e9 notaste primero?",
        ),
        ("Wonderful, I'll submit your card now.", "Estupendo, env\u00edo tu tarjeta ahora."),
        ("Thank you. I'll submit the card as it stands now.", "Gracias. Env\u00edo la tarjeta tal como est\u00e1."),
        (
            "Or, if the card fits, just say so and I'll submit it.",
            "O, si la tarjeta encaja, d\u00edmelo y la env\u00edo.",
        ),
        ("Thank you, let me change the card.", "Gracias, voy a cambiar la tarjeta."),
        ("Thank you for sharing that.", "Gracias por contarlo."),
        (
            "What is the good thing you want to protect here?",
            "\u00bfCu\u00e1l es el bien que quieres proteger aqu\u00ed?",
        ),
        (
            "If you imagine getting this right, what would you be paying attention to?",
            "Si imaginas hacerlo bien, \u00bfa qu\u00e9 estar\u00edas prestando atenci\u00f3n?",
        ),
        (
            "When you yourself face a choice like this, what do you pay attention to in deciding what to do?",
            "Cuando t\u00fa misma o t\u00fa mismo te enfrentas a una decisi\u00f3n as\u00ed, \u00bfa qu\u00e9 "
            "prestas atenci\u00f3n para decidir qu\u00e9 hacer?",
        ),
        ("That helps.", "Eso ayuda."),
        (
            "Could you tell me about a time in your own life when you made a choice like this?",
            "\u00bfPodr\u00edas contarme alguna vez en tu vida en que tomaste una decisi\u00f3n as\u00ed?",
        ),
        ("What did you notice or look for then?", "\u00bfQu\u00e9 notaste o qu\u00e9 buscaste entonces?"),
        ("That's all right.", "No pasa nada."),
        (
            "Is there someone you admire for how they handle choices like this?",
            "\u00bfHay alguien a quien admires por c\u00f3mo afronta decisiones as\u00ed?",
        ),
        ("What would they pay attention to?", "\u00bfA qu\u00e9 prestar\u00eda atenci\u00f3n esa persona?"),
        (
            "When you think back on that, what stood out to you as most important?",
            "Cuando lo recuerdas, \u00bfqu\u00e9 te pareci\u00f3 lo m\u00e1s importante?",
        ),
        (
            "Thank you, that is enough for me to write a card from what you've said so far.",
            "Gracias, con lo que has dicho ya puedo escribir una tarjeta.",
        ),
        (
            "Thank you, I think I have a picture of what matters to you. Let me write it up as a card.",
            "Gracias, creo que ya veo lo que te importa. Voy a escribirlo en una tarjeta.",
        ),
        ("Thank you.", "Gracias."),
        # the card writer's fixed parts (interviews/offline/revisions.py)
        ("WHAT they said matters: ", "LO QUE la persona dijo que importa: "),
        (
            "The scripted interviewer reads only English, so this card keeps the participant's own words: ",
            "El entrevistador guionizado no entiende bien este idioma, as\u00ed que esta tarjeta conserva las "
            "palabras de la persona: ",
        ),
    ]
}
# A short answer in the participant's language that the English script must understand.
ANSWERS: dict[str, list[tuple[re.Pattern, str]]] = {
    "es": [
        (
            re.compile(
                r"^\s*(s[i\u00ed]|vale|de acuerdo|perfecto|correcto|exacto|est[a\u00e1] bien|me gusta|"
                r"env[i\u00ed]a(la)?|enviar)\b[\s.,!]*$",
                re.I,
            ),
            "yes",
        ),
        (re.compile(r"^\s*(no s[e\u00e9]|ni idea|nada|no lo s[e\u00e9])[\s.,!]*$", re.I), "dunno"),
        (re.compile(r"^\s*(ll[a\u00e1]mal[ao]|ponle de t[i\u00ed]tulo|tit[u\u00fa]lal[ao])\s+", re.I), "call it "),
        (re.compile(r"^\s*(quita|elimina|borra)\s+el\s+(primer|primero)\s+punto", re.I), "drop the first point"),
        (re.compile(r"^\s*(quita|elimina|borra)\s+el\s+segundo\s+punto", re.I), "drop the second point"),
        (re.compile(r"^\s*(quita|elimina|borra)\s+el\s+(tercer|tercero)\s+punto", re.I), "drop the third point"),
        (re.compile(r"^\s*(quita|elimina|borra)\s+el\s+[u\u00fa]ltimo\s+punto", re.I), "drop the last point"),
        (re.compile(r"^\s*(a\u00f1ade|agrega|incluye)\s+", re.I), "add "),
    ]
}
GENERIC_CARDS = {
    "es": {
        "title": "Cuidar de quien decide",
        "description": (
            "Tarjeta guionizada de reserva, pues el entrevistador sin modelo ten\u00eda muy poco con lo que "
            "trabajar: prestar atenci\u00f3n a la persona y a lo que necesita ante una decisi\u00f3n dif\u00edcil."
        ),
        "policies": [
            "SENTIMIENTOS que la persona tiene ante la decisi\u00f3n que debe tomar",
            "OPCIONES en las que quiz\u00e1 todav\u00eda no ha pensado",
            "PERSONAS de su confianza que podr\u00edan ayudarle a decidir",
        ],
    }
}


# Cards the offline card writer is told to expect (interviews.offline.expect_card) that are already in a
# language other than English: the scripted participants' own (journey/personas). Left as they are.
_WRITTEN_IN: dict[str, set[str]] = {}


def written_in(language: str, card: dict) -> None:
    """Say that an expected card is written in `language`, so the card writer does not put it into it."""
    _WRITTEN_IN.setdefault(language, set()).add(card["title"])


def _replace_all(text: str, pairs: list[tuple[str, str]]) -> str:
    for source, target in sorted(pairs, key=lambda p: -len(p[0])):
        text = text.replace(source, target)
    return text


def into(language: str, text: str) -> str:
    """The offline interviewer's English sentences in `language` (others left as they are)."""
    return _replace_all(text, PHRASES.get(language, []))


def back_to_english(language: str, text: str) -> str:
    return _replace_all(text, [(t, s) for s, t in PHRASES.get(language, [])])


def answer_in_english(language: str, text: str) -> str:
    for pattern, english in ANSWERS.get(language, []):
        if pattern.search(text):
            return pattern.sub(english, text, count=1) if english.endswith(" ") else english
    return text


def _english_view(language: str, request: ChatRequest) -> ChatRequest:
    def message(m: Message) -> Message:
        if m.role == "assistant":
            return dataclasses.replace(m, content=back_to_english(language, m.content))
        if m.role == "user":
            return dataclasses.replace(m, content=answer_in_english(language, m.content))
        return m

    return dataclasses.replace(request, messages=[message(m) for m in request.messages])


def speaking(script):
    """The offline interviewer, in the language its prompt asks for."""

    def interviewer(request: ChatRequest) -> tuple[str, list[ToolCall]]:
        language = requested_language(request)
        if language not in PHRASES:
            return script(request)
        text, calls = script(_english_view(language, request))
        return into(language, text), calls

    return interviewer


def _transcript_in_english(language: str, transcript: str) -> str:
    lines = []
    for line in transcript.splitlines():
        if line.startswith("Interviewer: "):
            line = "Interviewer: " + back_to_english(language, line[len("Interviewer: ") :])
        elif line.startswith("Participant: "):
            line = "Participant: " + answer_in_english(language, line[len("Participant: ") :])
        lines.append(line)
    return "\n".join(lines)


def _card_in(language: str, card: dict, generic: dict) -> dict:
    if card["title"] in _WRITTEN_IN.get(language, ()):
        return card
    if card == generic:
        return json.loads(json.dumps(GENERIC_CARDS[language]))
    fixed = [s for s, _ in PHRASES[language]]
    ours = any(s in card["description"] for s in fixed) or any(s in p for p in card["policies"] for s in fixed)
    if ours:  # their own sentences, in a frame of ours
        return {
            "title": card["title"],
            "description": into(language, card["description"]),
            "policies": [into(language, p) for p in card["policies"]],
        }
    # Composed from English answers: the glossary's rendering, which keeps what it does not know.
    return {
        "title": translate_text(card["title"], "en", language),
        "description": translate_text(card["description"], "en", language),
        "policies": [translate_text(p, "en", language) for p in card["policies"]],
    }


def writing(script, generic_card):
    """The offline card writer, writing the card in the language its prompt asks for."""

    def articulator(request: ChatRequest) -> tuple[str, list[ToolCall]]:
        language = requested_language(request)
        if language not in PHRASES or not request.messages:
            return script(request)
        english = dataclasses.replace(
            request,
            messages=[
                *request.messages[:-1],
                dataclasses.replace(
                    request.messages[-1], content=_transcript_in_english(language, request.messages[-1].content)
                ),
            ],
        )
        text, calls = script(english)
        answer = json.loads(text)
        if "card" in answer and not _revision(request.messages[-1].content):
            answer["card"] = _card_in(language, answer["card"], generic_card())
        return json.dumps(answer, ensure_ascii=False), calls

    return articulator


def _revision(transcript: str) -> bool:
    """A revision of a card already in the participant's language (it was put into it when first written):
    the script only made the changes asked for."""
    return re.search(r"^Previous card: \{", transcript, re.M) is not None
