"""Seeding a study's canonical values from a file of cards, before launch:
the parser's row-by-row errors, all-or-nothing saving, duplicates, the
scenarios the values belong to, their embeddings, and the command."""

import json

import pytest
from django.core.management import CommandError, call_command

from mgeplatform.models import DomainEvent
from values import selectors, services
from values.models import CanonicalValue
from values.seed_file import SeedFileError

GOOD_CSV = (
    "title,description,policies,scenarios\n"
    "Curiosity,An assistant that follows the child's interest.,"
    '"MOMENTS when the child\'s eyes light up\nQUESTIONS the child asks on their own",parenting\n'
    "Calm evenings,An assistant that keeps the home calm.,ROUTINES that give the family a calm evening;"
    "SIGNS that the child feels safe,parenting; abortion\n"
    "Honest information,An assistant that gives facts without pressure.,FACTS the person asked for,\n"
)


def seed(study, text, name="cards.csv", user=None):
    return services.seed_values_from_file(study, (name, text.encode()), user=user)


def problems_of(study, text, name="cards.csv"):
    with pytest.raises(SeedFileError) as err:
        seed(study, text, name)
    assert not CanonicalValue.objects.filter(study=study).exists(), "a bad file saved something"
    return err.value.problems


@pytest.mark.django_db
def test_a_good_csv_file_makes_embedded_values_in_their_scenarios(study):
    result = seed(study, GOOD_CSV)

    assert [v.title for v in result["made"]] == ["Curiosity", "Calm evenings", "Honest information"]
    curiosity = CanonicalValue.objects.get(study=study, title="Curiosity")
    assert curiosity.origin == CanonicalValue.Origin.FILE and curiosity.source_name == "cards.csv"
    assert curiosity.policies == ["MOMENTS when the child's eyes light up", "QUESTIONS the child asks on their own"]
    assert CanonicalValue.objects.get(title="Calm evenings").policies[1] == "SIGNS that the child feels safe"
    assert result["embedded"] == 3 and curiosity.embedding is not None and curiosity.embedding_model
    by_key = {s.key: s.pk for s in study.scenarios.all()}
    scenarios = selectors.value_scenarios(study)
    assert scenarios[curiosity.pk] == {by_key["parenting"]}
    assert scenarios[CanonicalValue.objects.get(title="Calm evenings").pk] == {by_key["parenting"], by_key["abortion"]}
    # No scenario named: the value belongs to every active question.
    assert scenarios[CanonicalValue.objects.get(title="Honest information").pk] == set(by_key.values())
    event = DomainEvent.objects.get(kind="canonical.seeded_from_file")
    assert event.payload["file"] == "cards.csv" and len(event.payload["values"]) == 3


@pytest.mark.django_db
def test_a_json_file_with_policy_lists_is_read_too(study):
    cards = [
        {
            "title": "Faith",
            "description": "An assistant that respects belief.",
            "policies": ["SCRIPTURE passages that guide the decision", "PRAYER before choosing"],
            "scenarios": ["abortion"],
        },
        {
            "title": "Safety",
            "description": "An assistant that keeps people safe.",
            "policies": "STORAGE that keeps weapons from children",
            "scenario": "weapons",
        },
    ]
    result = services.seed_values_from_file(study, ("seed.json", json.dumps({"cards": cards}).encode()))

    assert sorted(v.title for v in result["made"]) == ["Faith", "Safety"]
    assert CanonicalValue.objects.get(title="Faith").policies == cards[0]["policies"]
    assert list(CanonicalValue.objects.get(title="Safety").scenarios.values_list("key", flat=True)) == ["weapons"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "row, problem",
    [
        (",A description.,POLICY one", "row 2: title is empty"),
        ("   ,A description.,POLICY one", "row 2: title is empty"),
        ("A title,,POLICY one", "row 2: description is empty"),
        ("A title,A description.,", "row 2: policies: a card needs 1 to 10 policies; this one has 0"),
        (
            "A title,A description.," + ";".join(f"POLICY {i}" for i in range(11)),
            "row 2: policies: a card needs 1 to 10 policies; this one has 11",
        ),
        ("T" * 121 + ",A description.,POLICY one", "row 2: title is too long (121 characters; at most 120)"),
        ("A title," + "d" * 401 + ",POLICY one", "row 2: description is too long (401 characters; at most 400)"),
        (
            "A title,A description.,POLICY one;" + "p" * 301,
            "row 2: policies: policy 2 is too long (301 characters; at most 300)",
        ),
        (
            "A ti\x00tle,A description.,POLICY one",
            "row 2: title contains an invisible control character (NUL) that cannot be saved",
        ),
        (
            "A title,A description.,POLICY one,nosuch",
            "row 2: no scenario 'nosuch' in this study (its scenarios: abortion, parenting, weapons)",
        ),
        ("A title,A description.,POLICY one,parenting,extra", "row 2: has more cells than the header has columns"),
    ],
)
def test_each_kind_of_bad_row_is_named_and_nothing_is_saved(study, row, problem):
    text = "title,description,policies,scenarios\nFine,A fine value.,POLICY fine\n" + row + "\n"
    assert problems_of(study, text) == [problem]


@pytest.mark.django_db
def test_every_bad_row_is_reported_at_once(study):
    text = (
        "title,description,policies\nGood,A good value.,POLICY good\n,No title.,POLICY x\n"
        "Good too,,POLICY y\nFine,Fine.,POLICY z\n"
    )
    assert problems_of(study, text) == ["row 2: title is empty", "row 3: description is empty"]


@pytest.mark.django_db
def test_bad_json_rows_name_their_field(study):
    cards = [
        {"title": "Ok", "description": "Fine.", "policies": ["POLICY a"]},
        {"title": 7, "description": "Fine.", "policies": ["POLICY a", 3]},
        {"description": "No title.", "policies": ["POLICY b"], "colour": "red"},
        "not a card",
    ]
    assert problems_of(study, json.dumps(cards), "cards.json") == [
        "row 2: title should be text",
        "row 2: policy 2 should be text",
        "row 3: title is missing",
        "row 3: unknown column “colour” (the columns are title, description, policies, scenarios)",
        "row 4: should be an object with title, description and policies",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw, name, problem",
    [
        (b"", "cards.csv", "The CSV file's first row should name its columns"),
        (b"title,policies\nA,B\n", "cards.csv", "missing: description"),
        (b"title,description,policies\n", "cards.csv", "The file has no cards."),
        (b"\xff\xfetitle", "cards.csv", "The file is not UTF-8 text"),
        (b'[{"title": ', "cards.json", "The file is not valid JSON"),
        (b'{"title": "x"}', "cards.json", "should be a list of cards"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(study, raw, name, problem):
    with pytest.raises(SeedFileError) as err:
        services.seed_values_from_file(study, (name, raw))
    assert problem in err.value.problems[0]
    assert not CanonicalValue.objects.filter(study=study).exists()


@pytest.mark.django_db
def test_a_title_twice_in_the_file_is_refused(study):
    text = "title,description,policies\nCuriosity,One.,POLICY a\nCalm,Two.,POLICY b\n  curiosity ,Three.,POLICY c\n"
    assert problems_of(study, text) == ["row 3: the title “curiosity” is also in row 1"]


@pytest.mark.django_db
def test_titles_the_study_already_has_are_skipped_so_a_file_can_be_given_twice(study):
    seed(study, GOOD_CSV)
    again = seed(study, GOOD_CSV + "Fairness,An assistant that is fair.,RULES that apply to everyone,\n")

    assert [v.title for v in again["made"]] == ["Fairness"]
    assert again["skipped"] == ["Curiosity", "Calm evenings", "Honest information"]
    assert CanonicalValue.objects.filter(study=study).count() == 4
    rows, _ = services.check_seed_file(study, ("cards.csv", GOOD_CSV.encode()))
    assert all(row.note.startswith("skipped") for row in rows)


@pytest.mark.django_db
def test_the_command_prints_what_it_made(study, tmp_path, capsys):
    path = tmp_path / "cards.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    call_command("seed_values", "--study", study.slug, "--file", str(path))
    out = capsys.readouterr().out

    assert "made value" in out and "Curiosity (parenting)" in out and "Calm evenings (abortion, parenting)" in out
    assert "Made 3 canonical values from cards.csv; skipped 0; embedded 3." in out
    call_command("seed_values", "--study", study.slug, "--file", str(path))
    assert "skipped “Curiosity”" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_command_refuses_a_bad_file_and_saves_nothing(study, tmp_path):
    path = tmp_path / "cards.csv"
    path.write_text("title,description,policies\nGood,Fine.,POLICY a\n,Empty title.,POLICY b\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing was saved. row 2: title is empty"):
        call_command("seed_values", "--study", study.slug, "--file", str(path))
    with pytest.raises(CommandError, match="No study"):
        call_command("seed_values", "--study", "nope", "--file", str(path))
    with pytest.raises(CommandError, match="No file"):
        call_command("seed_values", "--study", study.slug, "--file", str(tmp_path / "missing.csv"))
    assert not CanonicalValue.objects.filter(study=study).exists()


@pytest.mark.django_db
def test_seeded_values_reach_the_relevance_step_even_without_a_vector_and_count_as_the_same_question(study):
    """The first participant of a seeded study marks seeded values; one whose
    embedding failed is shown after the embedded ones rather than left out."""
    from django.utils import timezone

    from interviews import services as chat
    from studies.models import Step
    from tests.factories import consented_participant, move_to
    from values import embeddings, relevance
    from values.models import ValuesCard

    seed(study, GOOD_CSV)
    CanonicalValue.objects.filter(title="Honest information").update(embedding=None, embedding_model="")
    participant, _ = consented_participant(study, "first-parent")
    interview = chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="parenting"))
    card = ValuesCard.objects.create(
        interview=interview,
        revision=1,
        title="Mine",
        description="d",
        policies=["MOMENTS when the child is curious"],
        source="articulator",
        submitted=True,
        submitted_at=timezone.now(),
    )
    embeddings.embed_card(card)
    move_to(participant, Step.RELEVANCE)

    draw = relevance.current_draw(participant)
    shown = {item.canonical.title: item for item in draw.items.select_related("canonical")}
    assert set(shown) == {"Curiosity", "Calm evenings", "Honest information"}
    assert shown["Honest information"].position == 2  # after the two that are close to the card
    parenting = study.scenarios.get(key="parenting").pk
    assert all(item.source_scenario_id == parenting for item in shown.values())  # Table 2: same question
