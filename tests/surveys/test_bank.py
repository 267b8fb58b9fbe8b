"""Item banks: the paper's questions by default, frozen once published,
new wording as a new version, attention checks by Prolific's rules."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from mgeplatform.models import DomainEvent
from surveys import services
from surveys.models import ItemBank, SurveyItem

# Table 3 of the paper, copied as printed.
TABLE_3 = {
    "clarify": "Did it help you clarify what was important to you?",
    "expresses_care": "Did the values you submitted and voted for express what you care about?",
    "contributions_placed": "Do you believe your contributions will find their way to the appropriate place in the "
    "final output?",
    "trust_process": "Would you trust this process to create a wise version of Chat-GPT, based on the collected "
    "values of a large population?",
    "learned_values": "Did you learn something about other people's values?",
    "gained_respect": "Based on what you saw of others' values, did you gain respect for the other participants?",
}
# Tables 3 and 4 copied from the paper's text (tab-separated, as extracted),
# so the check runs everywhere and stays independent of TABLE_3 above.
PAPER_TABLES = Path(__file__).parent / "data" / "paper-tables-3-4.txt"
TABLE_4 = "Do you believe your value ended up in a fair position in the moral graph?"


def test_default_bank_asks_the_papers_questions_in_order(study):
    bank = services.ensure_default_bank(study)
    assert (bank.version, bank.published) == (1, True)
    journey = list(bank.items.filter(when="journey").order_by("order"))
    assert [(i.key, i.text, i.kind) for i in journey] == [(k, t, "likert5") for k, t in TABLE_3.items()]
    assert journey[0].options == {
        "1": "Strongly disagree",
        "2": "Disagree",
        "3": "Neither agree nor disagree",
        "4": "Agree",
        "5": "Strongly agree",
    }
    follow_up = {i.kind: i for i in bank.items.filter(when="follow_up")}
    assert follow_up["fairness"].text == TABLE_4 and set(follow_up["fairness"].options) == {"yes", "no"}
    assert follow_up["dedup_verification"].text == "Does this value represent what you care about?"
    assert list(follow_up["dedup_verification"].options) == ["well", "partly", "not"]
    assert not bank.items.filter(kind="attention_check").exists()
    # Idempotent: a second call returns the same bank.
    assert services.ensure_default_bank(study) == bank and ItemBank.objects.filter(study=study).count() == 1
    assert DomainEvent.objects.filter(kind="survey.default_bank_created").count() == 1


def test_wording_matches_tables_3_and_4_as_printed_in_the_paper(study):
    text = PAPER_TABLES.read_text()
    table3 = text[text.index("Table 3: Responses") : text.index("Table 4: Responses")]
    for item in services.ensure_default_bank(study).items.filter(kind="likert5"):
        assert item.text + "\t" in table3
    assert TABLE_4 in text[text.index("Table 4: Responses") :]


def test_published_bank_is_frozen_in_the_database(study):
    bank = services.ensure_default_bank(study)
    item = bank.items.get(key="clarify")
    with pytest.raises(DatabaseError), transaction.atomic():
        SurveyItem.objects.filter(pk=item.pk).update(text="Reworded?")
    with pytest.raises(DatabaseError), transaction.atomic():
        SurveyItem.objects.create(bank=bank, key="extra", kind="likert5", text="Another?")
    with pytest.raises(DatabaseError), transaction.atomic():
        item.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        ItemBank.objects.filter(pk=bank.pk).update(published=False)


def test_editing_makes_a_new_version(study, coordinator):
    v1 = services.ensure_default_bank(study)
    draft = services.new_version(study, source=v1, user=coordinator)
    assert (draft.version, draft.published) == (2, False)
    assert list(draft.items.values_list("key", "text")) == list(v1.items.values_list("key", "text"))
    SurveyItem.objects.filter(bank=draft, key="clarify").update(text="Did it help you see what matters to you?")
    check = services.add_attention_check(draft)
    assert (check.kind, check.expected_answer, check.when) == ("attention_check", "5", "journey")
    assert check.order == 7  # after the six Table 3 items
    # Still v1 until the draft is published.
    assert services.ensure_default_bank(study) == v1
    services.publish_bank(draft, user=coordinator)
    assert services.ensure_default_bank(study) == draft
    assert v1.items.get(key="clarify").text == TABLE_3["clarify"]  # answers to v1 keep their wording
    event = DomainEvent.objects.get(kind="survey.bank_published")
    assert event.actor_user == coordinator and "attention" in event.payload["items"]


def test_only_the_newest_draft_can_be_published(study):
    v1 = services.ensure_default_bank(study)
    v2 = services.new_version(study, source=v1)
    services.new_version(study, source=v1)  # v3
    with pytest.raises(services.BankError):
        services.publish_bank(v2)


def test_attention_checks_follow_prolific_rules(study):
    draft = services.new_version(study)
    # An expected answer the question can give, asked in the study itself.
    with pytest.raises(ValidationError):
        services.add_attention_check(draft, key="bad", expected_answer="7")
    bad = SurveyItem(
        bank=draft,
        key="memory",
        kind="attention_check",
        text="What colour was mentioned earlier?",
        expected_answer="3",
        when="follow_up",
    )
    with pytest.raises(ValidationError):
        bad.full_clean()
    # The database refuses an attention check without an expected answer.
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyItem.objects.create(bank=draft, key="noanswer", kind="attention_check", text="Choose 5.")
    published = services.ensure_default_bank(study)
    with pytest.raises(services.BankError):
        services.add_attention_check(published)


def test_coordinator_versions_a_bank_in_the_admin(study, coordinator):
    from django.test import Client

    client = Client()
    client.force_login(coordinator)
    v1 = services.ensure_default_bank(study)
    page = client.get(f"/admin/surveys/itembank/{v1.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and 'name="_save"' not in html  # frozen: view only
    assert "Did it help you clarify what was important to you?" in html and "No answers yet." in html
    response = client.post("/admin/surveys/itembank/", {"action": "new_version_from_bank", "_selected_action": [v1.pk]})
    assert response.status_code == 302
    draft = ItemBank.objects.get(study=study, version=2)
    editable = client.get(f"/admin/surveys/itembank/{draft.pk}/change/").content.decode()
    assert 'name="_save"' in editable and 'name="items-0-text"' in editable
    client.post("/admin/surveys/itembank/", {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.published and services.ensure_default_bank(study) == draft
    # "Add" makes a draft copy of the newest version.
    added = client.post("/admin/surveys/itembank/add/", {"study": study.pk, "note": "Add an attention check"})
    assert added.status_code == 302
    v3 = ItemBank.objects.get(study=study, version=3)
    assert not v3.published and v3.items.count() == 8 and v3.note == "Add an attention check"
