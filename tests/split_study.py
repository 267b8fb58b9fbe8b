"""A planted two-group split in one moral context, from participants' votes
with Prolific demographics imported: twelve Democrats judge the move from
`other` to `favoured` wiser, six Republicans the move back (or, with
`republicans_agree`, the same move). Returns the context, the two values
and {participant pk: party}."""

from django.core.management import call_command

from graph.models import MoralContext, WisdomVote
from tests.factories import consented_participant

ATTRIBUTE = "U.s. political affiliation"


def planted_split(
    study, values, tmp_path, *, republicans_agree: bool = False, democrats: int = 12, republicans: int = 6
):
    context = MoralContext.objects.create(
        study=study, scenario=study.scenarios.get(key="parenting"), text="When a teenager wants a later curfew"
    )
    favoured, other = values[0], values[1]
    party = {f"dem-{i}": "Democrat" for i in range(democrats)} | {f"rep-{i}": "Republican" for i in range(republicans)}
    voters = {pid: consented_participant(study, pid)[0] for pid in party}
    path = tmp_path / "prolific.csv"
    path.write_text(f"Participant id,{ATTRIBUTE}\n" + "".join(f"{pid},{answer}\n" for pid, answer in party.items()))
    call_command("import_demographics", str(path), study=study.slug)
    for pid, answer in party.items():
        towards_favoured = answer == "Democrat" or republicans_agree
        WisdomVote.objects.create(
            study=study,
            participant=voters[pid],
            from_value=other if towards_favoured else favoured,
            to_value=favoured if towards_favoured else other,
            context=context,
            answer="yes",
        )
    return context, favoured, other, {voters[pid].pk: answer for pid, answer in party.items()}
