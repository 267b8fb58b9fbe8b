"""An auditor walks, by links only, from a canonical value's admin page to
the transcript of someone who voted on one of its edges, and from a story
to what its LLM calls were sent."""

import re
from html import unescape

import pytest
from django.test import Client

from graph import aggregation, services, stories
from graph.models import StoryAssignment, WisdomVote
from mgeplatform.models import LLMCall
from studies.models import Step
from tests.factories import consented_participant, move_to, run_interview

ANSWERS = [
    "My grandmother listened for a long time before she ever told me what to do.",
    "I want parents to notice what the child is already curious about.",
    "When my son built a radio from scraps I learned to stay out of his way.",
    "Looking back I paid attention to the questions he asked without being prompted.",
]


def _login(user, password):
    client = Client()
    response = client.post("/accounts/login/", {"login": user.email, "password": password})
    assert response.status_code == 302
    return client


def _links(response) -> list[tuple[str, str]]:
    """(href, link text) of every link on the page, as a browser reads them."""
    html = response.content.decode()
    return [
        (unescape(href), unescape(re.sub(r"<[^>]+>", "", text)).strip())
        for href, text in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, flags=re.S)
    ]


def _text(response) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


class Walk:
    """An auditor's browser that counts the links it follows."""

    def __init__(self, client, start):
        self.client, self.clicks = client, 0
        self.page = client.get(start)
        assert self.page.status_code == 200

    def click(self, href_pattern: str, text_pattern: str = ""):
        for href, text in _links(self.page):
            if re.search(href_pattern, href) and re.search(text_pattern, text):
                self.page = self.client.get(href)
                self.clicks += 1
                assert self.page.status_code == 200, href
                return text
        where = self.page.request["PATH_INFO"]
        raise AssertionError(f"no link matching {href_pattern!r} / {text_pattern!r} on {where}")


@pytest.fixture
def judged(graph_study):
    """Stories written by the offline model; a participant interviews (chat
    through the services), reaches the stories step and votes with reasons;
    the graph is built."""
    study, values = graph_study
    stories.generate_stories(study, reverse=True)
    voter, _ = consented_participant(study, "voter")
    interview, _ = run_interview(voter, study.scenarios.get(key="parenting"), answers=ANSWERS)
    move_to(voter, Step.STORIES)
    assignments = list(StoryAssignment.objects.filter(participant=voter).select_related("story"))
    assert assignments
    for i, assignment in enumerate(assignments):
        services.record_vote(
            participant=voter,
            assignment=assignment,
            answer="yes" if i == 0 else "no",
            reason=f"The second parent noticed the child, reason {i}.",
        )
    services.build_snapshot(study, parameters=aggregation.Parameters(bootstrap_samples=0))
    vote = (
        WisdomVote.objects.filter(participant=voter, answer="yes")
        .select_related("from_value", "to_value", "context", "story")
        .get()
    )
    return study, voter, interview, vote


def test_auditor_reaches_a_voters_transcript_from_a_value_in_two_clicks(judged, auditor):
    study, voter, interview, vote = judged
    client = _login(auditor, "x-audit-pass-1")
    walk = Walk(client, f"/admin/values/canonicalvalue/{vote.from_value_id}/change/")
    value_page = _text(walk.page)
    assert "Edges in the moral graph" in value_page and "Stories and votes involving this value" in value_page
    assert 'name="_save"' not in walk.page.content.decode()  # auditors read, never change

    edge = f"/admin/graph/transitionstory/edge/{vote.from_value_id}/{vote.to_value_id}/"
    walk.click(rf"{edge}\?context={vote.context_id}$")
    edge_page = _text(walk.page)
    title = f"{vote.from_value.title} → {vote.to_value.title} in “{vote.context.text}”: wiser"
    assert f"{title}, by participant {str(voter.pk)[:8]}" in edge_page
    assert "The second parent noticed the child, reason 0." in edge_page and "Yes, wiser" in edge_page
    assert vote.story.story[:60] in edge_page

    walk.click(rf"/admin/interviews/interview/{interview.pk}/change/", "transcript")
    transcript = _text(walk.page)
    assert walk.clicks <= 4
    positions = [transcript.index(answer) for answer in ANSWERS]
    assert positions == sorted(positions)  # in the order they were said
    assert "Participant" in transcript and "Interviewer" in transcript
    assert any(href == f"/admin/studies/participant/{voter.pk}/change/" for href, _ in _links(walk.page))


def test_a_story_links_to_the_calls_that_wrote_it_and_each_shows_what_was_sent(judged, auditor):
    study, voter, interview, vote = judged
    client = _login(auditor, "x-audit-pass-1")
    walk = Walk(client, f"/admin/values/canonicalvalue/{vote.from_value_id}/change/")
    # The pair may have stories in several contexts: the link for the vote's context.
    walk.click(
        rf"/admin/graph/transitionstory/edge/{vote.from_value_id}/{vote.to_value_id}/\?context={vote.context_id}$"
    )
    walk.click(r"/admin/mgeplatform/llmcall/\d+/change/", "story_writer")
    call = LLMCall.objects.get(pk=re.search(r"llmcall/(\d+)/", walk.page.request["PATH_INFO"]).group(1))
    assert call.pk == vote.story.llm_call_id and walk.clicks == 2
    page = _text(walk.page)
    assert call.request_system and call.request_messages
    assert re.sub(r"\s+", " ", call.request_system)[:80] in page
    assert re.sub(r"\s+", " ", call.request_messages[0]["content"])[:80] in page
    assert vote.from_value.title in call.request_messages[0]["content"]  # the pair the story is about was sent
    assert f"{call.prompt_name}" in page and call.prompt_version in page and call.prompt_hash in page
    assert 'name="_save"' not in walk.page.content.decode()


def test_interviewer_calls_record_the_conversation_they_were_sent(judged):
    study, voter, interview, vote = judged
    reply = interview.messages.filter(role="assistant").exclude(llm_call=None).order_by("-seq").first()
    sent = reply.llm_call.request_messages
    assert reply.llm_call.request_system
    assert [m["content"] for m in sent if m["role"] == "user"][: len(ANSWERS)] == ANSWERS


def test_names_on_the_way_are_readable(judged, auditor):
    study, voter, interview, vote = judged
    client = _login(auditor, "x-audit-pass-1")
    votes = _text(client.get("/admin/graph/wisdomvote/"))
    assert f"{vote.from_value.title} → {vote.to_value.title} in “{vote.context.text}”: wiser" in votes
    assert not re.search(r"\b\d+→\d+\b", votes)
    vote_page = Walk(client, f"/admin/graph/wisdomvote/{vote.pk}/change/")
    vote_page.click(rf"/admin/interviews/interview/{interview.pk}/change/", "transcript")
    assert ANSWERS[-1] in _text(vote_page.page)
    story_list = _text(client.get("/admin/graph/transitionstory/"))
    assert vote.from_value.title in story_list
    story_page = Walk(client, f"/admin/graph/transitionstory/{vote.story_id}/change/")
    assert f"{vote.from_value.title} → {vote.to_value.title} in “{vote.context.text}”" in _text(story_page.page)
    story_page.click(r"/admin/interviews/interview/\d+/change/", "transcript")  # each vote names its voter's transcript
    assert ANSWERS[0] in _text(story_page.page)


def test_snapshot_edges_lead_to_their_stories_and_votes(judged, auditor):
    study, voter, interview, vote = judged
    client = _login(auditor, "x-audit-pass-1")
    snapshot = study.graph_snapshots.get()
    walk = Walk(client, f"/admin/graph/graphsnapshot/{snapshot.pk}/change/")
    pair = {(vote.from_value_id, vote.to_value_id), (vote.to_value_id, vote.from_value_id)}
    edge = next(e for e in snapshot.edges if (e["source"], e["target"]) in pair)
    walk.click(rf"/admin/graph/transitionstory/edge/{edge['source']}/{edge['target']}/$")
    assert "The second parent noticed the child, reason 0." in _text(walk.page)


def test_auditor_cannot_change_what_the_trail_shows(judged, auditor):
    study, voter, interview, vote = judged
    client = _login(auditor, "x-audit-pass-1")
    response = client.post(
        f"/admin/values/canonicalvalue/{vote.from_value_id}/change/",
        {"study": study.pk, "title": "Renamed", "description": "x", "policies": "[]", "origin": "manual"},
    )
    assert response.status_code == 403
    vote.from_value.refresh_from_db()
    assert vote.from_value.title != "Renamed"
    assert client.post(f"/admin/graph/wisdomvote/{vote.pk}/delete/", {"post": "yes"}).status_code == 403
    assert WisdomVote.objects.filter(pk=vote.pk).exists()
