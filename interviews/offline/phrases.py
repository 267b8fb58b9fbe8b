"""How the offline card writer reads a transcript: word tables, tagging, phrases, titles and policies."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from interviews import contracts as card_limits

# --- words the interviewer and the card writer both read ---------------------------

SLOGAN_WORDS = re.compile(r"\b(should|must|never|always|wrong|murder|sin|evil|right to|obviously|just)\b", re.I)
APPROVAL = re.compile(
    r"^\s*(yes|yep|yeah|yup|ok|okay|k|kk|sure|fine|looks good|that'?s (it|right|good)|perfect|"
    r"great|submit|correct|exactly|good)\b",
    re.I,
)
# A turn that says nothing about the participant's value ("dunno", "ok", "idk", "no idea", "yes", "k", "..."):
# never a title or a policy. Checked word by word (letters of any script), so "Ok, I care about honesty" is not.
FILLER_WORDS = set(
    """dunno idk ok okay k kk yes yeah yep yup ya no nope nah idea not sure don't dont do know i
nothing whatever maybe hmm hm um uh er meh fine lol haha what huh eh pass skip nothing really clue sorry tbh
""".split()
)
LETTERS = r"[^\W\d_]"  # a letter of any script ("más", "ñ", "ü"); [A-Za-z] stripped accents ("Lo Que M")
WORD = re.compile(LETTERS + r"+(?:['\u2019]" + LETTERS + r"+)*")


def is_filler(text: str) -> bool:
    """True for an answer that says nothing about a value: only filler words, or no words at all."""
    words = [w.lower().replace("\u2019", "'") for w in WORD.findall(text)]
    return all(w in FILLER_WORDS for w in words)


# --- the articulator: a values card from the participant's own phrases --------------
#
# No model reads the transcript, so the card is assembled from short noun
# phrases the participant used ("honest conversations", "her own pace"),
# found with word lists and a little context (what comes before a word tells
# a noun from a verb well enough for this). Paper 4.1: a title, one sentence,
# and attentional policies such as "MOMENTS when ..." or "SIGNS of ...".

POSSESSIVES = {"her", "his", "their", "my", "our", "your", "its"}
FIRST_PERSON = {"my", "our", "me", "i", "we", "us", "mine"}
DETERMINERS = {
    "a",
    "an",
    "the",
    "this",
    "that",
    "these",
    "those",
    "every",
    "each",
    "some",
    "any",
    "another",
    "own",
    "such",
    "more",
    "less",
    "other",
    "whose",
}
NOUN_BEFORE = {
    "of",
    "for",
    "about",
    "with",
    "without",
    "from",
    "at",
    "on",
    "in",
    "into",
    "by",
    "through",
    "after",
    "before",
    "than",
    "like",
    "between",
    "among",
    "towards",
    "toward",
    "against",
    "during",
    "beyond",
}
SUBJECTS = {
    "i",
    "you",
    "he",
    "she",
    "we",
    "they",
    "it",
    "who",
    "nobody",
    "everyone",
    "everybody",
    "someone",
    "somebody",
    "anyone",
    "anybody",
    "people",
    "which",
    "kids",
}
AUXILIARIES = {
    "would",
    "could",
    "should",
    "will",
    "can",
    "might",
    "must",
    "may",
    "shall",
    "did",
    "do",
    "does",
    "don't",
    "didn't",
    "doesn't",
    "won't",
    "wouldn't",
    "can't",
    "cannot",
    "couldn't",
    "shouldn't",
    "not",
    "to",
    "i'd",
    "i'll",
    "i've",
    "we'd",
    "they'd",
    "dont",
    "didnt",
    "doesnt",
    "wont",
    "cant",
    "never",
    "always",
    "just",
    "also",
    "really",
    "even",
    "still",
    "then",
}
FUNCTION_WORDS = (
    POSSESSIVES
    | DETERMINERS
    | NOUN_BEFORE
    | SUBJECTS
    | set(
        """
a about above after again all almost already also although am an and any anything are aren't as at away back be
because been being both but by can could did do does doing done down each either else enough etc ever everything
few for from further had has have having here hers herself him himself how however i'd i'll i'm i've if im is isn't
it it's its itself just let's lot lots maybe me mine more most much myself no nor not nothing now of off ok okay on
once one only or other others ourselves out over own per perhaps quite rather same she'd she's shes so some
something somewhere soon still such than that that's thats the them themselves then there there's these they
they're thing things this those though thus till to too under until up upon us very was wasn't way ways we we're
well were weren't what what's whats when where whether which while who whom whose why will with within would yes
yeah yep you you're yours yourself lol haha hmm um uh like kind sort bit stuff actually honestly basically literally
seriously anyway anyways probably definitely especially usually often sometimes again already always never really
thats whatever whenever wherever whoever everyone everybody someone somebody anyone anybody nobody none part
around across along behind beside near inside outside together apart ago anymore assistant chatgpt ai bot response
answer person moment moments attention instead first second third one two three four five six seven eight nine
last next idk tbh imo btw ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty
thirty forty fifty dunno nope nah meh k kk yup ya
""".split()
    )
    | AUXILIARIES
)
PARTICLES = {"up", "down", "out", "off", "away", "back", "through", "over"}
OBJECTS = {"me", "him", "her", "them", "us", "you", "it"}
# Verb forms that are not also the nouns people use for what they attend to.
VERBS = set(
    """
is are was were be been being am have has had having do does did done doing go goes went gone going get gets got
getting gotten make makes made making think thinks thought thinking know knows knew known want wants wanted
say says said tell tells told take takes took taken taking give gives gave given come comes came coming see sees
saw seen look looks looked looking seem seems seemed feel feels felt keep keeps kept let lets put puts mean means
meant become becomes became try tries tried trying need needs needed use uses used help helps helped helping
believe believes believed decide decides decided deciding realise realised realize realized learn learns learned
learnt leave leaves left happen happens happened matter matters mattered care cares cared caring start started
turn turned show showed shown push pushed pushing rush rushed rushing wait waited share shared listen listens
listened listening pray prayed praying read hate hated love loved resent resented ban banned beat beats build
builds built carry carried end ended ask asks asked asking check checks checked judge judged judging agree
disagree disagrees disagreed notice notices noticed noticing spend spent grow grew grown find found finds
stick stuck talk talks talked talking understand understood bring brought hope hoped worry worried
force support supported respect respected trust trusted walk walked sat sit stay stayed hear heard
broke broken hooked consider considered considering face faced facing fought wrote write writes
named naming handle handled handling work works worked choose chose chosen choosing teach taught spread
describing describe held hold holds ran run runs drove died lost won paid sent met fell sang ate
""".split()
)
ADJECTIVE_ENDINGS = ("ous", "ful", "ive", "able", "ible", "less", "ish", "ed")
ADJECTIVES = set(
    """safe scared alone afraid curious hard real true clear close sure able ready difficult important
good bad right wrong different young old older big small free open honest quiet strong weak happy sad calm pregnant
worried whole full new little long short best better worse worst wild own possible crazy serious sick upset
personal official genuine nice kind great fine lovely mean cruel gentle patient supportive honest fair
independent confident respectful loving caring
""".split()
)
# "makes him curious", "be kind to her": the quality named as a noun, for a policy (never a title: not their word).
QUALITIES = {
    "curious": "curiosity",
    "honest": "honesty",
    "kind": "kindness",
    "nice": "kindness",
    "safe": "safety",
    "free": "freedom",
    "independent": "independence",
    "confident": "confidence",
    "patient": "patience",
    "gentle": "gentleness",
    "fair": "fairness",
    "respectful": "respect",
    "supportive": "support",
    "loving": "love",
    "caring": "care",
    "calm": "calm",
    "open": "openness",
    "interested": "interest",
}
QUALITY_SAID = re.compile(
    r"\b(?:make|makes|made|keep|keeps|kept|feel|feels|felt|is|was|are|were|be|being|get|gets|"
    r"got|stay|stays|become|becomes)\s+(?:(him|her|them|me|us|someone|people|kids|the \w+|a \w+)"
    r"\s+)?(?:more\s+|so\s+|really\s+|very\s+)?(" + "|".join(QUALITIES) + r")\b",
    re.I,
)
LY_WORDS = {"family", "reply", "ally", "belly", "holy", "lonely", "friendly", "early", "daily", "ugly", "assembly"}
NOUN_ING = {
    "understanding",
    "feeling",
    "feelings",
    "meaning",
    "wellbeing",
    "well-being",
    "upbringing",
    "learning",
    "wedding",
    "building",
    "listening",
    "reasoning",
    "thinking",
    "grieving",
    "healing",
    "belonging",
}
# A phrase just after these is what they do not want ("not scare tactics", "beats forced discipline").
NEGATIONS = {
    "not",
    "no",
    "without",
    "never",
    "nor",
    "instead",
    "rather",
    "don't",
    "dont",
    "didn't",
    "didnt",
    "nobody",
    "isn't",
    "isnt",
    "wasn't",
    "than",
    "beats",
    "over",
    "versus",
    "vs",
}

# Word lists naming kinds of things, to choose a policy's head (its capital word).
FEELINGS = set(
    """feelings feeling fear fears scared worry worries anxiety anxious relief guilt shame pressure peace
joy hope pain grief regret stress comfort calm doubt doubts loneliness panic love loyalty blessing confidence
excitement gratitude sadness anger frustration
""".split()
)
SENSE = set(
    """autonomy control freedom faith dignity safety belonging community achievement purpose pride
independence agency responsibility ownership security privacy identity
""".split()
)
OCCASIONS = set(
    """conversations conversation choices choice decisions decision questions question talk talks
discussion discussions time space room guidance advice options option information info learning play practice
projects project hobbies interests reflection prayer support help
""".split()
)
PEOPLE = set(
    """people friends friend family women men woman man parents parent mentors mentor network
adults adult nurse doctor doctors pastor kid kids child children teachers teacher uncle aunt husband wife
partner others elders neighbours neighbors sister brother mother father mom mum dad cousin daughter son boy
girl grandmother grandma grandfather grandpa coach priest therapist counselor counsellor boyfriend girlfriend
""".split()
)
INFORMATION = set(
    """facts fact information info context evidence sources source details records reports documents
story picture truth data numbers
""".split()
)
INNER_STATES = {
    "curiosity",
    "interest",
    "interests",
    "passion",
    "passions",
    "feelings",
    "needs",
    "wellbeing",
    "confidence",
    "mood",
    "joy",
    "happiness",
    "readiness",
}
# Words that name something a person can value, for choosing the title.
VALUE_WORDS = SENSE | set(
    """honest honesty informed trust respect care curiosity curious interest peace support
safe truth facts accuracy context choices choice understanding listening genuine real dignity counsel wisdom
kindness patience presence courage integrity fairness compassion empathy judgement judgment voice space pace
timeline time network conversations information verified prayer scripture decision decisions discipline
routine routines freedom sources picture story terms
""".split()
)
VALUE_ENDINGS = ("ity", "ness", "ence", "ance", "dom", "acy", "ship", "ism")
CUES = re.compile(
    r"\b(care|cares|matter(s|ed)?|attention|notice|important|value|look(ed)? (for|at)|focus|"
    r"pay|paid|beats|need(ed)?)\b",
    re.I,
)
SMALL_TITLE_WORDS = {"of", "for", "to", "in", "on", "with", "and", "at", "by", "from", "the", "a", "an"}
WHEN_SUBJECTS = {
    "a",
    "the",
    "someone",
    "she",
    "he",
    "they",
    "people",
    "kids",
    "children",
    "somebody",
    "her",
    "his",
    "their",
    "others",
}
# "time to think", "a safe place to talk": these nouns take the verb that follows.
ROOM_NOUNS = {"time", "space", "room", "place", "chance", "freedom", "opportunity", "permission"}
# "the pride of finishing", "the reasons behind rules": one phrase, headed by its first noun.
JOINERS = {"of", "behind"}

# A slogan is a short moral assertion (paper 4.3): where people start, not their value.
SLOGAN_ASSERTION = re.compile(
    r"\b(pro-?choice|pro-?life|(her|my|your|their|a woman'?s) (body|choice|right)|"
    r"is (murder|a sin|wrong|right|evil)|god says)\b",
    re.I,
)


def _norm(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"[.!?;\n]+|\s-\s|\s\u2013\s", _norm(text)) if s.strip()]


def is_slogan(sentence: str) -> bool:
    """A short moral assertion ("It's her body and her choice", "abortion is murder")."""
    asserted = SLOGAN_WORDS.search(sentence) or SLOGAN_ASSERTION.search(sentence)
    personal = re.search(r"\b(i|my|me)\b", sentence, re.I)  # "I must have time" is about them, not a slogan
    return len(sentence.split()) <= 12 and bool(asserted) and not personal


def _tokens(sentence: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:['-]" + LETTERS + r"+)*|[,:()/\"]", sentence)


def _is_word(token: str) -> bool:
    return token[:1].isalnum()


def _tags(tokens: list[str]) -> list[str]:
    """One tag a token: C content (noun-ish), V verb, F function word, P possessive, B break."""
    tags = []
    for i, token in enumerate(tokens):
        word, prev = token.lower(), (tokens[i - 1].lower() if i else "")
        nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        if not _is_word(token):
            tags.append("B")
        elif word in POSSESSIVES and word != "its":
            tags.append("P")
        elif prev in POSSESSIVES and word in VERBS and (nxt in POSSESSIVES or nxt in DETERMINERS):
            tags.append("V")  # "close to her respect her decision"
        elif word in FUNCTION_WORDS or word.isdigit() or (word.endswith("ly") and word not in LY_WORDS):
            tags.append("F")
        elif nxt in PARTICLES and word not in NOUN_ING:
            tags.append("V")  # "eyes light up"
        elif (
            word.endswith("s")
            and not word.endswith(("ss", "us", "is", "'s"))
            and prev not in DETERMINERS
            and prev not in POSSESSIVES
            and prev not in NOUN_BEFORE
            and i + 1 < len(tokens)
            and (
                nxt in OBJECTS
                or nxt in DETERMINERS
                or nxt in POSSESSIVES
                or (_is_word(tokens[i + 1]) and nxt not in FUNCTION_WORDS)
            )
        ):
            tags.append("V")  # "the child develops discipline": a plural ends a noun phrase, a verb goes on
        elif (
            i
            and tags[-1] in ("V", "F")
            and prev not in DETERMINERS | POSSESSIVES | NOUN_BEFORE
            and (nxt in OBJECTS or nxt in POSSESSIVES or nxt in ("a", "an", "the"))
        ):
            tags.append("V")  # "helps shape the agreements"
        elif (
            prev in DETERMINERS
            or prev in POSSESSIVES
            or prev in NOUN_BEFORE
            or (i and tags[-1] == "C" and word not in VERBS)
        ):
            tags.append("C")
        elif word in VERBS or prev in SUBJECTS or prev in AUXILIARIES or word.endswith("ing") and word not in NOUN_ING:
            tags.append("V")
        elif word.endswith("ed") and not (nxt and nxt not in FUNCTION_WORDS and nxt not in VERBS):
            tags.append("V")  # "-ed" before a noun is an adjective ("informed choices"), else a verb
        else:
            tags.append("C")
    return tags


def _noun_end(word: str) -> bool:
    word = word.lower()
    if word in ADJECTIVES or word in ROOM_NOUNS or word in VERBS and word not in OCCASIONS | FEELINGS | VALUE_WORDS:
        return False
    if word.endswith("ing"):
        return word in NOUN_ING
    return not word.endswith(ADJECTIVE_ENDINGS) or word in OCCASIONS | FEELINGS | VALUE_WORDS | PEOPLE


def _show(token: str, first: bool) -> str:
    """Lower-case a word unless it looks like a name typed mid-sentence ("God", "Minecraft")."""
    return token if (token[:1].isupper() and not first and token.lower() != "i") else token.lower()


@dataclass(frozen=True)
class Phrase:
    """A short noun phrase the participant said, and where."""

    words: tuple[str, ...]  # as shown, e.g. ("her", "own", "pace")
    answer: int
    position: int
    cue: bool  # said in a sentence about what matters to them
    derived: bool = False  # named for them ("curiosity" from "makes him curious"), so never the title

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def content(self) -> list[str]:
        words = (w.lower().rstrip(",") for w in self.words)
        return [w for w in words if w not in FUNCTION_WORDS and w not in POSSESSIVES]

    @property
    def last(self) -> str:
        return self.words[-1].lower()


def _phrases_in(sentence: str, answer: int, position: int) -> list[Phrase]:
    tokens = _tokens(sentence)
    tags = _tags(tokens)
    lower = [t.lower() for t in tokens]
    cue = bool(CUES.search(sentence))
    found, i = [], 0
    while i < len(tokens):
        if tags[i] not in ("C", "P"):
            i += 1
            continue
        start = i
        if tags[i] == "P":  # a possessive opens a phrase only before "own" or a noun
            i += 1
            if i < len(tokens) and lower[i] == "own":
                i += 1
            if i >= len(tokens) or tags[i] != "C":
                continue
        while i < len(tokens) and tags[i] == "C":
            i += 1
        end = i
        # "time to think": the verb belongs to the phrase.
        room = (
            lower[end - 1] in ROOM_NOUNS
            and end + 1 < len(tokens)
            and lower[end] == "to"
            and _is_word(tokens[end + 1])
            and lower[end + 1] not in FUNCTION_WORDS
        )
        if room:
            end = i = end + 2
        elif end + 1 < len(tokens) and lower[end] in JOINERS:  # "feelings of others", "the context of the events"
            j = end + 1
            while j < len(tokens) and (lower[j] in ("a", "an", "the") or tags[j] == "P") and j - end < 3:
                j += 1
            k = j
            while k < len(tokens) and (tags[k] == "C" or (k == j and lower[k].endswith("ing"))) and k - j < 3:
                k += 1
            if k > j:
                end = i = k
        words = [_show(t, idx == 0) for idx, t in enumerate(tokens[start:end], start)]
        while words and not room and not _noun_end(words[-1]):
            words.pop()
        while words and words[-1].lower() in FUNCTION_WORDS | POSSESSIVES | JOINERS:
            words.pop()
        before = lower[max(0, start - 3) : start]
        if words and not NEGATIONS & set(before):
            content = [w for w in words if w.lower() not in FUNCTION_WORDS | POSSESSIVES]
            if content and len(content) <= 5:
                found.append(Phrase(tuple(words[-6:]), answer, position + start, cue))
    return found


def _when_clauses(sentence: str) -> list[str]:
    """ "when a kid gets curious about something" from their words: the start of a MOMENTS policy."""
    out = []
    for match in re.finditer(r"\bwhen\s+([^,]+)", sentence, re.I):
        words = match.group(1).split()
        if not words or words[0].lower() not in WHEN_SUBJECTS or FIRST_PERSON & {w.lower() for w in words}:
            continue
        words = re.split(r"\s+(?:and|but|so|because|or)\s+", " ".join(words[:8]))[0].split()
        while words and words[-1].lower() in FUNCTION_WORDS | POSSESSIVES:
            words.pop()
        if len(words) >= 3:
            out.append("when " + " ".join(w if w[:1].isupper() and w.lower() != "i" else w.lower() for w in words))
    return out


def _what_clauses(sentence: str) -> list[str]:
    """ "what the kid is actually into", "what God asks of her": the start of a THINGS policy."""
    out = []
    for match in re.finditer(r"\bwhat\s+([^,]+)", sentence, re.I):
        words = match.group(1).split()
        if (
            len(words) < 3
            or FIRST_PERSON & {w.lower() for w in words}
            or not (words[0].lower() in WHEN_SUBJECTS or words[0][:1].isupper())
        ):
            continue
        words = re.split(r"\s+(?:and|but|so|because|or|when|if)\s+", " ".join(words[:7]))[0].split()
        if len(words) >= 3:
            out.append(" ".join(w if w[:1].isupper() and w.lower() != "i" else w.lower() for w in words))
    return out


def _feelings_named(sentence: str, answer: int, position: int) -> list[Phrase]:
    """ "like fear or grief or relief": the feelings named together, as one phrase."""
    named = [w.lower() for w in re.findall(LETTERS + "+", sentence) if w.lower() in FEELINGS - {"feelings", "feeling"}]
    named = list(dict.fromkeys(named))
    if len(named) < 2:
        return []
    text = ", ".join(named[:-1]) + " or " + named[-1]
    return [Phrase(tuple(text.split()), answer, position + 999, bool(CUES.search(sentence)))]


def _qualities_named(sentence: str, answer: int, position: int) -> list[Phrase]:
    out = []
    for match in QUALITY_SAID.finditer(sentence):
        before = sentence[: match.start()].split()[-1:]
        if (match.group(1) or "").lower() in FIRST_PERSON or [w.lower() for w in before] in (["i"], ["we"]):
            continue  # "I was calm" is their state, not what they attend to
        out.append(
            Phrase(
                (QUALITIES[match.group(2).lower()],), answer, position + 998, bool(CUES.search(sentence)), derived=True
            )
        )
    return out


HOW_FEEL = re.compile(
    r"\bhow\s+(others|other people|people|she|he|they|someone|everyone|(?:her|his|their|the) "
    r"\w+)\s+(?:would|will|might|could|may)?\s*(?:feel|feels|felt)\b",
    re.I,
)
HOW_STATE = re.compile(r"\bhow\s+(\w+)\s+(she|he|they|someone)\s+(?:is|was|are|were|feels|felt)\b", re.I)
OBJECT_OF = {"she": "her", "he": "him", "they": "them", "someone": "someone", "everyone": "everyone"}


def _how_clauses(sentence: str) -> list[str]:
    """ "how others would feel" -> "FEELINGS of others"; "how scared she was" -> "SIGNS of how scared she is"."""
    out = []
    for match in HOW_FEEL.finditer(sentence):
        who = match.group(1).lower()
        out.append(f"FEELINGS of {OBJECT_OF.get(who, who)}")
    for match in HOW_STATE.finditer(sentence):
        state, who = match.group(1).lower(), match.group(2).lower()
        if state in ADJECTIVES or state in FEELINGS or state.endswith(("ed", "ful", "ous")):
            out.append(f"SIGNS of how {state} {who} {'are' if who == 'they' else 'is'}")
    return out


def _material(answers: list[str]) -> tuple[list[Phrase], list[str]]:
    """The participant's phrases and clauses ("MOMENTS when ...", "THINGS ..."), slogans left out."""
    phrases, clauses, position = [], [], 0
    for index, answer in enumerate(answers):
        for sentence in _sentences(answer):
            if is_slogan(sentence):
                continue
            phrases.extend(_phrases_in(sentence, index, position))
            phrases.extend(_feelings_named(sentence, index, position))
            phrases.extend(_qualities_named(sentence, index, position))
            clauses.extend(_how_clauses(sentence))
            clauses.extend(f"MOMENTS {_theirs(w)}" for w in _when_clauses(sentence))
            clauses.extend(f"THINGS {_theirs(w)}" for w in _what_clauses(sentence))
            position += 1000
    return phrases, clauses


def _ranked(phrases: list[Phrase]) -> list[Phrase]:
    """Best first; ties go to what was said first (deterministic)."""
    frequency = Counter(w for p in phrases for w in set(p.content))

    def score(p: Phrase) -> float:
        n = len(p.content)
        s = {1: 0.0, 2: 3.0, 3: 3.0}.get(n, 1.5)
        s += 2.0 * sum(1 for w in p.content if _valued(w))
        s += sum(min(frequency[w] - 1, 2) for w in p.content)
        s += 2.5 if p.cue else 0.0
        s += 0.5 * p.answer
        s += 1.0 if "own" in p.words else 0.0
        return s

    best: dict[str, Phrase] = {}
    for p in phrases:
        key = p.text.lower()
        if key not in best:
            best[key] = p
    return sorted(best.values(), key=lambda p: (-score(p), p.answer, p.position))


def _distinct(phrases: list[Phrase]) -> list[Phrase]:
    """Leave out a phrase whose words another (better) phrase already says."""

    def stems(p: Phrase) -> set[str]:
        return {re.sub(r"(ies|s)$", lambda m: "y" if m.group(1) == "ies" else "", w) for w in p.content}

    kept: list[Phrase] = []
    for p in phrases:
        mine = stems(p)
        if any(len(mine & stems(k)) * 2 >= min(len(mine), len(stems(k))) for k in kept):
            continue
        kept.append(p)
    return kept


def _theirs(text: str) -> str:
    """Their words, said of anyone: "my own pace" -> "their own pace"."""
    swaps = {"my": "their", "our": "their", "me": "them", "myself": "themselves", "i": "they", "mine": "theirs"}
    return " ".join(swaps.get(w.lower(), w) for w in text.split())


def title_case(text: str) -> str:
    words = text.split()
    return " ".join(w if (i and w.lower() in SMALL_TITLE_WORDS) else w[:1].upper() + w[1:] for i, w in enumerate(words))


def _title_words(p: Phrase) -> list[str] | None:
    """The phrase as a title ("her faith community" -> "faith community"), or None if it names no value."""
    words = list(p.words)
    if p.derived:
        return None
    if words[0].lower() in POSSESSIVES and words[1:2] != ["own"]:
        words = words[1:]
    lowered = {w.lower() for w in words}
    listed = {"or", "and"} & lowered or any(w.endswith(",") for w in words)  # "fear, grief or relief"
    if (
        not words
        or FIRST_PERSON & lowered
        or listed
        or len(words) > 5
        or (p.last in PEOPLE and not JOINERS & lowered)
        or words[0].lower() in FUNCTION_WORDS - POSSESSIVES
    ):
        return None
    return words


def _title_candidates(ranked: list[Phrase]) -> list[str]:
    """Titles in order of preference: a few words naming a value, then one word that does, then any."""
    fitting = [(p, w) for p in ranked if (w := _title_words(p))]
    valued = [(p, w) for p, w in fitting if any(_valued(c) for c in p.content)]
    tiers = (
        [w for p, w in valued if len(p.content) >= 2],
        [w for p, w in valued],
        [w for p, w in fitting if len(p.content) >= 2],
        [w for p, w in fitting],
    )
    titles = []
    for words in (w for tier in tiers for w in tier):
        title = title_case(" ".join(words))
        if title not in titles:
            titles.append(title)
    return titles


def _valued(word: str) -> bool:
    return word in VALUE_WORDS or word.endswith(VALUE_ENDINGS)


def policy_for(phrase: str) -> str:
    """An attentional policy about a phrase, headed the way the paper's cards are."""
    words = phrase.split()
    lowered = [w.lower() for w in words]
    joiner = next((w for w in lowered[1:3] if w in JOINERS), None)
    if joiner and lowered[0] not in POSSESSIVES:  # "feelings of others" -> "FEELINGS of others"
        at = lowered.index(joiner, 1)
        return " ".join(words[:at]).upper() + " " + " ".join(words[at:])
    last = lowered[-1]
    if any(w in FEELINGS for w in lowered):
        return f"SIGNS of {phrase}" if {"feelings", "feeling"} & set(lowered) else f"FEELINGS of {phrase}"
    if last in PEOPLE:
        return f"SUPPORT from {phrase}" if "support" not in lowered else f"PRESENCE of {phrase}"
    if lowered[0] in POSSESSIVES and last in INNER_STATES:
        return f"SIGNS of {phrase}"  # "SIGNS of her curiosity"
    if lowered[0] in POSSESSIVES:
        return f"RESPECT for {phrase}"
    if last in SENSE:
        return f"SENSE of {phrase}"
    if last in INFORMATION:
        return f"ACCESS to {phrase}"
    if last in OCCASIONS or "to" in lowered:
        return f"OPPORTUNITIES for {phrase}"
    if _valued(last):
        return f"SIGNS of {phrase}"
    if last.endswith("s") and not last.endswith(("ss", "us", "is")):
        return f"DETAILS such as {phrase}"
    return f"SIGNS of {phrase}"


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "\u2026"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _english_share(answers: list[str]) -> float:
    """The share of the participant's words that the word lists above know: low for another language."""
    words = [w.lower() for a in answers for w in WORD.findall(_norm(a))]
    known = FUNCTION_WORDS | VERBS | ADJECTIVES | FEELINGS | SENSE | OCCASIONS | PEOPLE | INFORMATION | VALUE_WORDS
    return sum(1 for w in words if w in known) / len(words) if words else 1.0


def _card_in_their_words(answers: list[str]) -> dict | None:
    """For answers in a language the word lists do not know: their own sentences, accents and all, rather
    than fragments of them ("Lo Que M")."""
    sentences = [s for a in answers for s in _sentences(a) if len(WORD.findall(s)) >= 3 and not is_slogan(s)]
    if not sentences:
        return None
    first = sentences[0].rstrip(" ,:")
    words = first.split()
    title = first if len(words) <= 8 else " ".join(words[:6]) + "\u2026"
    title = title[:1].upper() + title[1:]
    policies = [_fit(f"WHAT they said matters: \u201c{s}\u201d", card_limits.POLICY_MAX) for s in sentences[:3]]
    description = _fit(
        "The scripted interviewer reads only English, so this card keeps the participant's own words: "
        f"\u201c{first}\u201d.",
        card_limits.DESCRIPTION_MAX,
    )
    return {"title": _fit(title, card_limits.TITLE_MAX), "description": description, "policies": policies}


def compose_card(answers: list[str], avoid_titles: tuple[str, ...] = (), least: int = 3) -> dict | None:
    """A values card from the participant's answers, or None when there is too little to go on
    (fewer than `least` policies)."""
    if answers and _english_share(answers) < 0.25:
        card = _card_in_their_words(answers)
        return (
            card
            if card is not None
            and len(card["policies"]) >= min(least, 2)
            and card["title"].lower() not in {t.lower() for t in avoid_titles}
            else None
        )
    phrases, clauses = _material(answers)
    # People are who helped, not what is attended to ("SUPPORT from their second child").
    ranked = [
        p
        for p in _distinct(_ranked(phrases))
        if p.last not in PEOPLE or JOINERS & set(p.words) or any(_valued(w) for w in p.content)
    ]
    if not ranked or len(ranked) + len(clauses) < least:
        return None
    avoid = {t.lower() for t in avoid_titles}
    titles = [t for t in _title_candidates(ranked) if t.lower() not in avoid]
    if not titles:
        return None
    title = titles[0]

    def is_title(p: Phrase) -> bool:
        return title_case(" ".join(_title_words(p) or [])) == title

    # Title phrase first, then the others by rank. A phrase a clause already says is left out
    # ("child's eyes" beside "MOMENTS when the child's eyes ...").
    said = {w.lower() for c in clauses for w in re.findall(r"(?:" + LETTERS + r"|')+", c)}
    said |= {QUALITIES[w] for w in said if w in QUALITIES}  # "curiosity" is said by "... gets curious"
    ordered = [p for p in sorted(ranked, key=lambda p: not is_title(p)) if is_title(p) or not set(p.content) <= said]
    # A lone word says little ("SIGNS of electronics") unless it names a value ("SENSE of faith").
    strong = [
        p
        for p in ordered
        if len(p.content) >= 2 or _valued(p.content[0]) or "own" in p.words or p.content[0] in FEELINGS
    ]
    weak = [p for p in ordered if p not in strong]
    policies: list[str] = []
    seen: set[str] = set()
    for clause in clauses:  # one of each kind
        if not any(q.split(" ")[0] == clause.split(" ")[0] for q in policies):
            policies.append(_fit(clause, card_limits.POLICY_MAX))
    # Two of a head first, so the card names different kinds of things; then a third if need be.
    # (at most this many of one head, from these phrases, until the card has this many policies)
    for most, pool, enough in ((2, strong, 4), (3, strong, 5), (3, weak, 3)):
        for p in pool:
            policy = _fit(policy_for(_theirs(p.text)), card_limits.POLICY_MAX)
            head = policy.split(" ")[0]
            if (
                len(policies) >= enough
                or policy.lower() in seen
                or sum(1 for q in policies if q.split(" ")[0] == head) >= most
            ):
                continue
            seen.add(policy.lower())
            policies.append(policy)
    if len(policies) < least:
        return None
    about = [_theirs(p.text) for p in ordered[:1]]
    about += [
        ("the things" if c.startswith("THINGS ") else c.split(" ")[0].lower()) + c[c.index(" ") :] for c in clauses[:2]
    ]
    about += [_theirs(p.text) for p in strong[1:] if p.last not in PEOPLE]
    about = about[:3]
    # "moments when ... when helping" reads badly: one "when" a sentence.
    tail = "as someone works through" if any(" when " in f" {a} " for a in about) else "when helping someone through"
    description = _fit(
        f"This value is about paying attention to {_join(about)} {tail} a hard choice.", card_limits.DESCRIPTION_MAX
    )
    return {"title": _fit(title, card_limits.TITLE_MAX), "description": description, "policies": policies}
