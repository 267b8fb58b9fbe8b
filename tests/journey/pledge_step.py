"""A step that is not part of the platform, for tests of the journey table:
after the survey, the participant ticks a box promising their answers were
honest. One module: its page, its submit service and its simulation."""

from django.http import HttpResponse

from studies import steps

PLEDGE = "pledge"


def pledge_page(request, study, participant):
    return HttpResponse('<h1 id="pledge">Were your answers honest?</h1>')


def submit_pledge(*, participant) -> bool:
    return steps.finish(participant, PLEDGE)


def simulate_pledge(participant, actor) -> None:
    submit_pledge(participant=participant)


SPEC = steps.StepSpec(PLEDGE, page=pledge_page, submit=submit_pledge, simulate=simulate_pledge, label="Pledge")
