"""The wise-response playground: each message is answered with no values,
with a pasted constitution and with the moral graph, whose winning card in the
message's context guides the reply; "none applies" is answered without
values; everything is recorded, shareable read-only and exportable."""

import json

import pytest
from django.test import Client

from alignment import playground
from alignment.models import PlaygroundConversation, PlaygroundTurn
from mgeplatform.models import DomainEvent, LLMCall
from tests.alignment.conftest import PROMPT

pytestmark = pytest.mark.django_db

CONSTITUTION = "Be honest.\nRespect the user's autonomy."


def _coordinator_client(coordinator):
    client = Client()
    client.force_login(coordinator)
    return client


def test_the_graph_reply_is_guided_by_the_winning_cards_policies(target):
    conversation = playground.start(target.study, constitution=CONSTITUTION)
    assert conversation.snapshot == target.snapshot  # the study's latest graph
    turn = playground.add_turn(conversation, PROMPT)
    assert turn.contexts == [{"id": target.child.pk, "text": target.child.text}]
    [card] = turn.values
    assert card["id"] == target.autonomy.pk and card["title"] == "Informed autonomy"
    assert card["description"] == target.autonomy.description
    call = turn.graph_call
    assert call.purpose == "alignment.playground.graph" and call.prompt_name == "guided_reply"
    assert call.prompt_version == "1"
    for policy in target.autonomy.policies:
        assert policy in call.request_system
        assert policy in turn.reply_graph  # the offline reply names what it attends to
    assert "Strict rules" not in call.request_system  # only the winner guides
    assert "Offline" in turn.reply_graph


def test_the_prompt_sent_contains_the_policies_and_the_plain_one_does_not(target, replies):
    provider = replies(
        json.dumps({"contexts": [target.child.pk], "reason": "A child and rules."}),
        "Guided answer.",
        "Plain answer.",
        "Constitutional answer.",
    )
    conversation = playground.start(target.study, constitution=CONSTITUTION)
    turn = playground.add_turn(conversation, PROMPT)
    choose, guided, plain, constitution = provider.requests
    assert "CHOICES the child can make alone" in guided.system and "REASONS behind each family rule" in guided.system
    assert "CHOICES" not in plain.system and "CHOICES" not in constitution.system
    assert "Respect the user's autonomy." in constitution.system
    assert (turn.reply_graph, turn.reply_plain, turn.reply_constitution) == (
        "Guided answer.",
        "Plain answer.",
        "Constitutional answer.",
    )


def test_none_applies_is_said_and_answered_without_values(target, coordinator):
    conversation = playground.start(target.study)
    turn = playground.add_turn(conversation, "What is the capital of France?")
    assert turn.contexts == [] and turn.values == []
    assert "none applies" in turn.context_reason
    assert turn.graph_call.prompt_name == "plain_reply" and "CHOICES" not in turn.graph_call.request_system
    page = _coordinator_client(coordinator).get(f"/graph/{target.study.slug}/playground/{conversation.pk}/")
    assert "No moral context applies: answered without values." in page.content.decode()


def test_three_columns_are_produced_recorded_and_drawn_with_provenance(target, coordinator):
    client = _coordinator_client(coordinator)
    base = f"/graph/{target.study.slug}/playground/"
    response = client.post(base, {"constitution": CONSTITUTION, "snapshot": ""})
    conversation = PlaygroundConversation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{base}{conversation.pk}/"
    assert conversation.created_by == coordinator and conversation.constitution == CONSTITUTION
    client.post(f"{base}{conversation.pk}/", {"message": PROMPT})
    client.post(f"{base}{conversation.pk}/", {"message": "And when they say the rules are unfair?"})
    first, second = conversation.turns.all()
    purposes = sorted(
        LLMCall.objects.filter(purpose__startswith="alignment.playground").values_list("purpose", flat=True)
    )
    assert purposes == sorted(
        ["alignment.playground.graph", "alignment.playground.plain", "alignment.playground.constitution"] * 2
    )
    for turn in (first, second):
        assert turn.reply_plain and turn.reply_constitution and turn.reply_graph
        assert {turn.plain_call.prompt_name, turn.constitution_call.prompt_name} == {
            "plain_reply",
            "constitution_reply",
        }
    # The second turn's calls carry the conversation so far, each with its own column's replies.
    assert [m["content"] for m in second.plain_call.request_messages] == [
        PROMPT,
        first.reply_plain,
        "And when they say the rules are unfair?",
    ]
    assert second.graph_call.request_messages[1]["content"] == first.reply_graph
    html = client.get(f"{base}{conversation.pk}/").content.decode()
    assert html.count('data-column="plain"') == 2 and html.count('data-column="graph"') == 2
    assert html.count('data-column="constitution"') == 2
    assert "Rank 1 in this context (95% interval 1–2, of its global rank)" in html  # above the card
    assert f"/admin/values/canonicalvalue/{target.autonomy.pk}/change/" in html  # staff: the value's admin page
    assert f"/admin/graph/moralcontext/{target.child.pk}/change/" in html
    assert "style=" not in html and "onclick" not in html


def test_the_share_link_is_read_only(target, coordinator):
    conversation = playground.start(target.study, user=coordinator)
    playground.add_turn(conversation, PROMPT)
    url = f"/playground/shared/{conversation.share_token}/"
    anonymous = Client()
    page = anonymous.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "Informed autonomy" in html
    assert 'id="turn-form"' not in html and "/admin/" not in html  # provenance: the public winners page
    assert f"/graph/{target.study.slug}/winners/" in html
    assert anonymous.post(url, {"message": "Hello"}).status_code == 405
    assert PlaygroundTurn.objects.count() == 1
    assert anonymous.get("/playground/shared/" + "x" * 43 + "/").status_code == 404
    # The coordinator's own page offers the share link.
    assert (
        url
        in _coordinator_client(coordinator)
        .get(f"/graph/{target.study.slug}/playground/{conversation.pk}/")
        .content.decode()
    )


def test_the_export_is_json(target, coordinator):
    conversation = playground.start(target.study, constitution=CONSTITUTION)
    playground.add_turn(conversation, PROMPT)
    for client, url in (
        (_coordinator_client(coordinator), f"/graph/{target.study.slug}/playground/{conversation.pk}/export.json"),
        (Client(), f"/playground/shared/{conversation.share_token}/export.json"),
    ):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
        data = json.loads(response.content)
        assert data["snapshot"] == target.snapshot.pk and data["constitution"] == CONSTITUTION
        [turn] = data["turns"]
        assert turn["message"] == PROMPT and turn["values"][0]["title"] == "Informed autonomy"
        assert set(turn["replies"]) == {"graph", "plain", "constitution"}
        assert LLMCall.objects.get(pk=turn["llm_calls"]["graph"]).purpose == "alignment.playground.graph"


def test_anonymous_visitors_are_refused_unless_the_graph_is_public(target):
    base = f"/graph/{target.study.slug}/playground/"
    visitor = Client()
    assert visitor.get(base).status_code == 403
    assert visitor.post(base, {"constitution": ""}).status_code == 403
    target.study.graph_public = True
    target.study.save(update_fields=["graph_public"])
    assert visitor.get(base).status_code == 200
    response = visitor.post(base, {"constitution": ""})
    conversation = PlaygroundConversation.objects.get()
    assert response.status_code == 302 and conversation.created_by is None and conversation.session_key
    assert visitor.post(f"{base}{conversation.pk}/", {"message": PROMPT}).status_code == 302
    assert conversation.turns.count() == 1
    # Another visitor neither sees nor adds to it.
    other = Client()
    assert other.get(f"{base}{conversation.pk}/").status_code == 404
    assert other.post(f"{base}{conversation.pk}/", {"message": "Hi"}).status_code == 404
    assert f"Conversation {conversation.pk}" not in other.get(base).content.decode()


def test_auditors_read_every_conversation_but_do_not_converse(target, auditor, coordinator):
    conversation = playground.start(target.study, user=coordinator)
    playground.add_turn(conversation, PROMPT)
    client = Client()
    client.force_login(auditor)
    base = f"/graph/{target.study.slug}/playground/"
    assert f"Conversation {conversation.pk}" in client.get(base).content.decode()
    page = client.get(f"{base}{conversation.pk}/")
    assert page.status_code == 200 and 'id="turn-form"' not in page.content.decode()
    assert client.post(f"{base}{conversation.pk}/", {"message": "Hi"}).status_code == 403
    assert client.post(base, {"constitution": ""}).status_code == 403
    assert conversation.turns.count() == 1
    assert client.get(f"/admin/alignment/playgroundconversation/{conversation.pk}/change/").status_code == 200


def _public(target):
    target.study.graph_public = True
    target.study.save(update_fields=["graph_public"])
    return f"/graph/{target.study.slug}/playground/"


def _start(visitor, base) -> PlaygroundConversation:
    assert visitor.post(base, {"constitution": ""}).status_code == 302
    return PlaygroundConversation.objects.order_by("-pk").first()


def test_each_turn_is_recorded_as_an_event_with_who_and_what(target, coordinator):
    client = _coordinator_client(coordinator)
    base = _public(target)
    conversation = _start(client, base)
    client.post(f"{base}{conversation.pk}/", {"message": PROMPT})
    visitor = Client()
    theirs = _start(visitor, base)
    visitor.post(f"{base}{theirs.pk}/", {"message": "What is the capital of France?"})
    staff_event, public_event = DomainEvent.objects.filter(kind="alignment.playground_turn").order_by("pk")
    turn = conversation.turns.get()
    assert staff_event.actor_user == coordinator and staff_event.study_slug == target.study.slug
    assert staff_event.subject_id == str(turn.pk)
    assert staff_event.payload["contexts"] == [target.child.pk]
    assert staff_event.payload["values"] == [target.autonomy.pk]
    assert staff_event.payload["llm_calls"]["graph"] == turn.graph_call_id and not staff_event.payload["public"]
    assert public_event.actor_user is None and public_event.payload["public"] is True
    assert public_event.payload["contexts"] == [] and public_event.payload["conversation"] == theirs.pk


def test_public_visitors_get_no_new_turns_once_the_budget_is_spent(target, coordinator):
    base = _public(target)
    visitor = Client()
    conversation = _start(visitor, base)
    assert visitor.post(f"{base}{conversation.pk}/", {"message": PROMPT}).status_code == 302
    target.study.budget_usd = 0
    target.study.save(update_fields=["budget_usd"])
    calls = LLMCall.objects.count()

    response = visitor.post(f"{base}{conversation.pk}/", {"message": "And then?"})
    assert response.status_code == 403 and "budget for model calls is spent" in response.content.decode()
    page = visitor.get(f"{base}{conversation.pk}/").content.decode()
    assert "budget for model calls is spent" in page and 'id="turn-form"' not in page
    assert "Informed autonomy" in page  # what was said so far can still be read
    response = visitor.post(base, {"constitution": ""})
    assert response.status_code == 403 and PlaygroundConversation.objects.count() == 1
    assert conversation.turns.count() == 1 and LLMCall.objects.count() == calls

    # Coordinators are not refused here: their use is theirs to weigh against the budget.
    staff = _coordinator_client(coordinator)
    assert staff.post(f"{base}{conversation.pk}/", {"message": "And then?"}).status_code == 302
    assert conversation.turns.count() == 2


def test_public_visitors_are_capped_per_conversation_and_in_all(target, settings):
    settings.PLAYGROUND_PUBLIC_TURNS_PER_CONVERSATION = 2
    settings.PLAYGROUND_PUBLIC_TURNS_PER_VISITOR = 3
    base = _public(target)
    visitor = Client()
    first = _start(visitor, base)
    for message in ("One", "Two"):
        assert visitor.post(f"{base}{first.pk}/", {"message": message}).status_code == 302
    response = visitor.post(f"{base}{first.pk}/", {"message": "Three"})
    assert response.status_code == 429 and "limit of 2 messages" in response.content.decode()
    assert first.turns.count() == 2

    second = _start(visitor, base)  # a new conversation goes on, up to the visitor's total
    assert visitor.post(f"{base}{second.pk}/", {"message": "Three"}).status_code == 302
    response = visitor.post(f"{base}{second.pk}/", {"message": "Four"})
    assert response.status_code == 429 and "You have sent the 3 messages" in response.content.decode()
    assert visitor.post(base, {"constitution": ""}).status_code == 429
    assert "You have sent the 3 messages" in visitor.get(base).content.decode()
    assert PlaygroundTurn.objects.count() == 3 and PlaygroundConversation.objects.count() == 2

    other = Client()  # another visitor has their own allowance
    theirs = _start(other, base)
    assert other.post(f"{base}{theirs.pk}/", {"message": "Hello"}).status_code == 302


def test_the_graph_pages_link_to_the_playground_for_whoever_may_open_it(target, auditor):
    base = f"/graph/{target.study.slug}/"
    link = f'href="/graph/{target.study.slug}/playground/"'
    staff = Client()
    staff.force_login(auditor)
    for page in ("", "winners/"):
        assert link in staff.get(base + page).content.decode()
    visitor = Client()
    denied = visitor.get(base)
    assert denied.status_code == 403 and link not in denied.content.decode()
    _public(target)
    for page in ("", "winners/"):
        response = visitor.get(base + page)
        assert response.status_code == 200 and link in response.content.decode()
        assert visitor.get(f"/graph/{target.study.slug}/playground/").status_code == 200  # and it opens


def test_the_playground_says_plainly_when_it_runs_offline(target, coordinator, settings):
    client = _coordinator_client(coordinator)
    base = f"/graph/{target.study.slug}/playground/"
    conversation = playground.start(target.study, user=coordinator)
    for url in (base, f"{base}{conversation.pk}/"):
        assert 'id="offline-notice"' in client.get(url).content.decode()
    # With a model configured (the key is never used by a GET), the notice goes.
    target.study.llm_provider = "anthropic"
    target.study.save(update_fields=["llm_provider"])
    settings.ANTHROPIC_API_KEY = "sk-test-not-used"
    for url in (base, f"{base}{conversation.pk}/"):
        assert 'id="offline-notice"' not in client.get(url).content.decode()
