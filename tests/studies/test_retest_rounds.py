"""Test–retest rounds, first slice (issue 29, item 2): a coordinator opens a
retest round for a seeded, stratified sample of the completed participants,
each invited once through their signed follow-up link; every record a
participant writes says its round, and the export says it too."""

import csv
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from graph.models import WisdomVote
from journey import exports, retest, withdrawal
from journey import selectors as journey_selectors
from mgeplatform.models import DomainEvent
from studies import arms, rounds, services
from studies.models import Participant, RetestInvitation, Round, Step, Study
from surveys import services as survey_services
from surveys.models import FollowUpLink
from tests.factories import consented_participant, run_interview


def _study(slug="retest", with_arms=True) -> Study:
    study, _ = services.seed_case_study(slug)
    study.arm_seed = 5
    study.save()
    if with_arms:
        arms.add_arm(study=study, name="control")
        arms.add_arm(study=study, name="treated")
    return study


def _completed(study, n) -> list[Participant]:
    people = [services.create_participant(study, via="link") for _ in range(n)]
    Participant.objects.filter(pk__in=[p.pk for p in people]).update(current_step=Step.COMPLETE)
    return people


def _csv(path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.django_db
def test_the_sample_is_seeded_reproducible_and_balanced_over_the_arms():
    study = _study()
    people = _completed(study, 40)
    # Others who may not be sampled: not completed, simulated, a preview.
    services.create_participant(study, via="link")
    simulated = services.create_participant(study, via="simulation")
    preview = services.create_participant(study, via="preview", cohort="preview")
    Participant.objects.filter(pk__in=[simulated.pk, preview.pk]).update(current_step=Step.COMPLETE)
    Participant.objects.filter(pk=simulated.pk).update(simulated=True)
    first = rounds.draw(study, n=10, seed=3, stratify_by="arm")
    again = rounds.draw(study, n=10, seed=3, stratify_by="arm")
    other = rounds.draw(study, n=10, seed=4, stratify_by="arm")
    assert first.eligible == 40
    assert [p.pk for p, _ in first.sample] == [p.pk for p, _ in again.sample]
    assert {p.pk for p, _ in first.sample} != {p.pk for p, _ in other.sample}
    assert {p.pk for p, _ in first.sample} <= {p.pk for p in people}
    # 20 and 20 in the arms (blocks of 2): 5 and 5 in the sample.
    assert Counter(s for _, s in first.sample) == {"control": 5, "treated": 5}
    assert first.by_stratum == {"control": (20, 5), "treated": (20, 5)}


def test_strata_give_their_shares_by_the_largest_remainder():
    assert rounds.allocate({"a": 30, "b": 10}, 8, seed=1) == {"a": 6, "b": 2}
    assert sum(rounds.allocate({"a": 7, "b": 7, "c": 7}, 10, seed=2).values()) == 10
    assert rounds.allocate({"a": 7, "b": 7, "c": 7}, 10, seed=2) == rounds.allocate(
        {"a": 7, "b": 7, "c": 7}, 10, seed=2
    )


@pytest.mark.django_db
def test_opening_a_round_invites_each_sampled_participant_once_through_the_follow_up_link():
    study = _study()
    people = _completed(study, 12)
    survey_services.issue_follow_up_links(study, days_valid=3)
    old_tokens = dict(FollowUpLink.objects.values_list("participant_id", "token"))
    opened = retest.open_retest_round(study, fraction=0.5, seed=7)
    assert opened.round.number == 2 and opened.invited == 6 and opened.round.stratify_by == "arm"
    invited = set(RetestInvitation.objects.filter(round=opened.round).values_list("participant_id", flat=True))
    assert len(invited) == 6 and invited <= {p.pk for p in people}
    # The links already sent keep their token; their expiry moves on to the round's 30 days.
    assert opened.links_made == 0 and opened.links_extended == 6
    for link in FollowUpLink.objects.filter(participant__in=invited):
        assert link.token == old_tokens[link.participant_id]
        assert (link.expires_at - link.created_at).days >= 29
    event = DomainEvent.objects.get(kind="study.retest_round_opened")
    assert event.payload["invited"] == 6 and event.payload["by_stratum"]["control"]["invited"] == 3
    # Opening it again with the same settings is refused and invites nobody twice.
    with pytest.raises(rounds.RoundError, match="already opened with these settings"):
        retest.open_retest_round(study, fraction=0.5, seed=7)
    assert RetestInvitation.objects.count() == 6 and Round.objects.filter(study=study).count() == 1
    # Another seed is another round.
    assert retest.open_retest_round(study, n=2, seed=8).round.number == 3


@pytest.mark.django_db
def test_withdrawn_participants_are_never_sampled_and_their_invitations_go_with_them():
    study = _study(with_arms=False)
    people = _completed(study, 6)
    opened = retest.open_retest_round(study, n=6, seed=1)
    assert opened.links_made == 6  # nobody had a follow-up link yet
    Study.objects.filter(pk=study.pk).update(withdrawal_policy=Study.WithdrawalPolicy.DELETE_CONTENT)
    people[0].refresh_from_db()
    withdrawal.withdraw(people[0])
    assert not RetestInvitation.objects.filter(participant=people[0]).exists()
    # The thank-you page's receipt names what went, in words the participant's language has.
    row = next(r for r in journey_selectors.deletion_receipt(people[0]) if r["key"] == "retest_invitations")
    assert row["what"] == "invitations to take part again" and row["count"] == 1
    with translation.override("es"):
        assert translation.gettext(row["what"]) == "invitaciones a volver a participar"
    with pytest.raises(rounds.RoundError, match="only 5 real participants completed"):
        retest.open_retest_round(study, n=6, seed=2)
    drawn = rounds.draw(study, n=5, seed=2, stratify_by="")
    assert people[0].pk not in {p.pk for p, _ in drawn.sample}


@pytest.mark.django_db
def test_the_command_opens_a_round_and_refuses_a_second_with_the_same_settings(capsys):
    study = _study()
    _completed(study, 8)
    call_command("open_retest_round", study=study.slug, n=4, seed=9)
    out = capsys.readouterr().out
    assert "Opened round 2 of retest: 4 of 8 completed participants invited (seed 9; control: 2 of 4" in out
    with pytest.raises(CommandError, match="round 2 of retest was already opened"):
        call_command("open_retest_round", study=study.slug, n=4, seed=9)
    with pytest.raises(CommandError, match="9 asked for, but only 8"):
        call_command("open_retest_round", study=study.slug, n=9, seed=10, stratify_by="none")


@pytest.mark.django_db
def test_records_carry_their_round_and_the_export_shows_it(tmp_path):
    study = _study("retest-export", with_arms=False)
    participant, _ = consented_participant(study, "pid-round")
    scenario = study.scenarios.get(key="parenting")
    interview, _ = run_interview(participant, scenario)
    card = interview.cards.filter(submitted=True).get()
    assert interview.round == 1 and card.round == 1
    # A retest interview's cards are of its round, whoever writes them (a trigger reads the interview's).
    interview.round = 2
    interview.save(update_fields=["round"])
    later = interview.cards.create(revision=99, title="t", description="d", policies=["p"], source="articulator")
    later.refresh_from_db()
    assert later.round == 2
    Participant.objects.filter(pk=participant.pk).update(current_step=Step.COMPLETE)
    retest.open_retest_round(study, n=1, seed=1)
    exports.export_study(study, tmp_path)
    wide = _csv(tmp_path / "participants.csv")
    assert wide[0]["round"] == "2" and wide[0]["retest_invited"] == "2"
    for name in ("messages.csv", "cards.csv", "votes.csv", "story_impressions.csv", "participants_steps.csv"):
        with (tmp_path / name).open(encoding="utf-8") as fh:
            assert next(csv.reader(fh))[-1] == "round", name
    assert {r["round"] for r in _csv(tmp_path / "cards.csv")} == {"1", "2"}
    assert [r["round"] for r in _csv(tmp_path / "retest_invitations.csv")] == ["2"]
    assert WisdomVote._meta.get_field("round").default == 1
    codebook = (tmp_path / "codebook.md").read_text(encoding="utf-8")
    assert "| retest_invited |" in codebook and "retest_invitations.csv" in codebook


def _post(client, study, **data):
    return client.post(
        "/admin/studies/study/", {"action": "open_retest_round", "_selected_action": [study.pk], **data}, follow=True
    )


@pytest.mark.django_db
def test_the_admin_action_asks_for_the_sample_then_opens_the_round_once(client, coordinator):
    study = _study()
    _completed(study, 10)
    client.force_login(coordinator)
    asked = _post(client, study)
    page = asked.content.decode()
    assert asked.status_code == 200 and 'id="retest-round-form"' in page and "the 10 real participants" in page
    assert not Round.objects.exists()
    # Both a number and a share: asked again, nothing opened.
    both = _post(client, study, apply="open", n="4", fraction="0.5", seed="3", stratify_by="default", days_valid="30")
    assert "not both" in both.content.decode() and not Round.objects.exists()
    opened = _post(client, study, apply="open", n="4", seed="3", stratify_by="default", days_valid="30")
    assert "Opened round 2 of retest: 4 of 10 completed participants invited (seed 3" in opened.content.decode()
    assert RetestInvitation.objects.filter(round__study=study).count() == 4
    again = _post(client, study, apply="open", n="4", seed="3", stratify_by="default", days_valid="30")
    assert "already opened with these settings" in again.content.decode()
    assert RetestInvitation.objects.filter(round__study=study).count() == 4
    event = DomainEvent.objects.get(kind="study.retest_round_opened")
    assert event.actor_user_id == coordinator.pk


@pytest.mark.django_db
def test_the_participant_page_lists_their_retest_rounds(client, coordinator):
    study = _study(with_arms=True)
    people = _completed(study, 2)
    retest.open_retest_round(study, n=2, seed=1)
    client.force_login(coordinator)
    page = client.get(f"/admin/studies/participant/{people[0].pk}/change/").content.decode()
    assert "Retest rounds" in page and people[0].arm.name in page and "not yet" in page


@pytest.mark.django_db
def test_a_sample_stratified_by_arm_and_language_keeps_each_strata_share():
    study = _study("retest-strata")
    study.languages, study.arm_strata = ["en", "es"], "language"
    study.save()
    people = [services.create_participant(study, via="link", language="es" if i % 4 == 0 else "en") for i in range(100)]
    Participant.objects.filter(pk__in=[p.pk for p in people]).update(current_step=Step.COMPLETE)
    drawn = rounds.draw(study, n=30, seed=11, stratify_by="arm_stratum")
    assert len(drawn.sample) == 30 and len(drawn.by_stratum) == 4  # two arms × two languages
    for stratum, (size, taken) in drawn.by_stratum.items():
        assert abs(taken - 30 * size / 100) < 1, stratum
        assert Counter(s for _, s in drawn.sample)[stratum] == taken
    assert [p.pk for p, _ in drawn.sample] == [
        p.pk for p, _ in rounds.draw(study, n=30, seed=11, stratify_by="arm_stratum").sample
    ]
