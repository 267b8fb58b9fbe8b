"""The participant journey, as one table: each step in order, with the page
that draws it, the work it needs on entry, the service that finishes it and
what a simulated participant does there. The journey app declares it to the
step service (`studies.steps.declare`) when the apps are ready, which refuses
a table with a part missing.

Adding a step: write its page, its submit service and its simulation (one
module of the feature that owns it), then add one `StepSpec` line here.
docs/extending.md walks through it."""

from __future__ import annotations

from graph import services as graph_services
from graph import views as graph_views
from interviews import services as chat
from interviews import views as interview_views
from journey import simulation, views
from studies import arms
from studies import services as study_services
from studies.models import Step
from studies.steps import StepSpec
from surveys import services as survey_services
from surveys import views as survey_views
from values import relevance
from values import views as value_views


def one_question(participant) -> bool:
    """A study with one question skips the choice."""
    return arms.offered_scenarios(participant).count() == 1


TABLE: list[StepSpec] = [
    StepSpec(
        Step.CONSENT,
        page=views.consent,
        submit=study_services.record_consent,
        simulate=simulation.at_consent,
        exits=(Step.DECLINED,),
    ),
    StepSpec(
        Step.SCENARIO,
        page=interview_views.scenario_page,
        submit=chat.choose_scenario,
        simulate=simulation.at_scenario,
        skip_if=one_question,
    ),
    StepSpec(
        Step.INTERVIEW,
        page=interview_views.interview_page,
        on_enter=(chat.start_only_scenario,),
        submit=chat.submit_card,
        simulate=simulation.at_interview,
    ),
    StepSpec(
        Step.RELEVANCE,
        page=value_views.relevance_page,
        on_enter=(relevance.on_enter_relevance,),
        skip_if=arms.relevance_off,
        submit=relevance.submit_marks,
        simulate=simulation.at_relevance,
    ),
    StepSpec(
        Step.STORIES,
        page=graph_views.stories_page,
        on_enter=(graph_services.on_enter_stories,),
        submit=graph_services.record_vote,
        simulate=simulation.at_stories,
    ),
    StepSpec(
        Step.SURVEY,
        page=survey_views.survey_page,
        on_enter=(survey_services.on_enter_survey,),
        submit=survey_services.submit_survey,
        simulate=simulation.at_survey,
    ),
    StepSpec(Step.COMPLETE, final=True),
]
