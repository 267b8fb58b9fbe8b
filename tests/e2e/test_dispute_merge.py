"""In a real browser (issue 25, item 3): a participant on a phone disputes
the merge of their card into a shared value from the thank-you page; a
coordinator signed in to the admin upholds it; the participant reads the
outcome at the same link, and the next moral graph has their card's own
value."""

import pytest

from graph.models import GraphSnapshot
from journey.models import Dispute
from studies.models import Participant, Step
from tests.e2e.helpers import PHONE_WIDTH, beside_the_browser, overflowing
from tests.factories import PROLIFIC, run_jobs_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OWN_TITLE = "Let children choose for themselves"
WORDS = "My card is about letting my child choose. The shared value is about rules, which is not what I meant."


@pytest.fixture
def study(transactional_db):
    from studies import services
    from tests.factories import make_values

    def prepare():
        study, _ = services.seed_case_study()
        return study, make_values(study)

    return beside_the_browser(prepare)


def _complete_with_merged_card(participant_id, value_id):
    """The participant (in the phone's session) wrote a card that joined
    another participant's value, then finished the study."""
    from django.utils import timezone

    from interviews import services as chat
    from studies import services as study_services
    from tests.factories import move_to
    from values.models import CanonicalValue, ValuesCard

    participant = Participant.objects.get(pk=participant_id)
    study = participant.study
    value = CanonicalValue.objects.get(pk=value_id)
    study_services.record_consent(participant=participant, consent=study.consent_documents.get(), accepted=True)
    participant.refresh_from_db()
    interview = chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="parenting"))
    ValuesCard.objects.create(
        interview=interview,
        revision=1,
        title=OWN_TITLE,
        description="Help a child make their own decisions.",
        policies=["CHOICES the child can make alone"],
        source="articulator",
        submitted=True,
        submitted_at=timezone.now(),
        canonical=value,
    )
    move_to(participant, Step.COMPLETE)


def _fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert overflowing(page) == []


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def test_a_disputed_merge_is_upheld_and_the_card_gets_its_own_value(
    study, coordinator, asgi_live_server, phone, laptop, screenshot_dir
):
    study, values = study
    merged_into = values[0]
    base = asgi_live_server.url
    errors = []
    phone.on("pageerror", lambda err: errors.append(str(err)))

    # The participant's browser joins through the study link; the study is done for them.
    query = "&".join(f"{k}={v}" for k, v in PROLIFIC.items())
    phone.goto(f"{base}/s/{study.slug}/?{query}")
    participant = Participant.objects.get(study=study, prolific_identity__prolific_pid=PROLIFIC["PROLIFIC_PID"])
    beside_the_browser(_complete_with_merged_card, participant.pk, merged_into.pk)
    phone.goto(f"{base}/s/{study.slug}/journey/")
    phone.get_by_role("heading", name="Thank you, you are done").wait_for()
    _fits_the_phone(phone)

    # From the thank-you page to the disputes page: their card beside the value it joined.
    phone.get_by_role("link", name="Dispute how you are represented").click()
    phone.get_by_role("heading", name="Dispute how you are represented").wait_for()
    disputes_url = phone.url
    assert disputes_url == f"{base}/s/{study.slug}/disputes/"
    merge = phone.get_by_role("region", name="Your card was grouped into a shared value")
    assert merge.get_by_role("region", name="The card you wrote").get_by_role("heading").inner_text() == OWN_TITLE
    assert (
        merge.get_by_role("region", name="The value it was grouped into").get_by_role("heading").inner_text()
        == merged_into.title
    )
    _fits_the_phone(phone)
    phone.screenshot(path=str(screenshot_dir / "dispute-01-merge.png"), full_page=True)

    merge.get_by_label("What does the shared value miss or get wrong about your card?").fill(WORDS)
    merge.get_by_role("button", name="Dispute this grouping").click()
    phone.get_by_role("status").wait_for()
    assert "your dispute is recorded" in phone.get_by_role("status").inner_text()
    mine = phone.get_by_role("article", name="Dispute 1")
    assert WORDS in mine.inner_text() and "Waiting for a coordinator" in mine.inner_text()
    _fits_the_phone(phone)
    phone.screenshot(path=str(screenshot_dir / "dispute-02-sent.png"), full_page=True)
    dispute = Dispute.objects.get()
    assert (dispute.kind, dispute.status, dispute.text) == (Dispute.Kind.MERGE, Dispute.Status.OPEN, WORDS)

    # The coordinator signs in, finds it in the queue and upholds it.
    laptop.goto(f"{base}/accounts/login/")
    laptop.get_by_label("Email").fill(coordinator.email)
    laptop.get_by_label("Password").fill("x-coord-pass-1")
    laptop.get_by_role("button", name="Sign In").click()
    laptop.wait_for_url(f"{base}/admin/")
    laptop.goto(f"{base}/admin/journey/dispute/?status__exact=open")
    row = laptop.locator("#result_list tbody tr", has_text="letting my child choose")
    assert row.count() == 1
    row.locator("input[name=_selected_action]").check()
    laptop.locator("select[name=action]").select_option("uphold")
    laptop.get_by_role("button", name="Go").click()
    laptop.get_by_label("Reason, shown to the participant (optional)").fill(
        "You are right: your card now stands as its own value."
    )
    laptop.get_by_role("button", name="Uphold").click()
    laptop.locator(".messagelist").wait_for()
    assert "Upheld 1 dispute." in laptop.locator(".messagelist").inner_text()

    # The participant sees the outcome at the same link.
    phone.goto(disputes_url)
    mine = phone.get_by_role("article", name="Dispute 1")
    text = mine.inner_text()
    assert "Upheld" in text and "You are right: your card now stands as its own value." in text
    # Their card has a value of its own now: no merge left to dispute.
    assert phone.get_by_role("region", name="Your card was grouped into a shared value").count() == 0
    _fits_the_phone(phone)
    phone.screenshot(path=str(screenshot_dir / "dispute-03-upheld.png"), full_page=True)

    # The next snapshot (built by the graph build job) has the card's own value.
    dispute.refresh_from_db()
    new_value = dispute.outcome["new_value"]

    def build():
        from graph.tasks import build_snapshot

        build_snapshot.defer(study_id=study.pk)
        run_jobs_until_idle()

    beside_the_browser(build)
    snapshot = GraphSnapshot.objects.filter(study=study).order_by("-pk").first()
    assert snapshot.values[str(new_value)]["title"] == OWN_TITLE
    assert str(merged_into.pk) in snapshot.values  # the value it left stays, with its other card
    laptop.goto(f"{base}/graph/{study.slug}/")
    assert OWN_TITLE in laptop.locator("#ranking-table").inner_text()
    # Beside the graph, the disputes table counts it, with nobody's words.
    disputes_table = laptop.locator("#disputes-table")
    assert "Merge of my card into a shared value" in disputes_table.inner_text()
    assert WORDS not in laptop.locator("main").inner_text()
    assert errors == []
