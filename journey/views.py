"""The participant's way through the study: the study link, consent, the
page of whatever step they are at, the end of the journey and withdrawal.
Each step's page belongs to the feature that owns the step and is found in
the step table (studies.steps); GET pages only read."""

from __future__ import annotations

from allauth.core import ratelimit
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from journey import selectors, withdrawal
from journey import services as dispute_services
from journey.models import TEXT_MAX_CHARS, Dispute
from mgeplatform import inputs
from studies import languages as study_languages
from studies import selectors as study_selectors
from studies import services, steps
from studies.models import Step
from studies.views import error_page, participant_view, step_page, step_url
from surveys import selectors as survey_selectors
from surveys.views import LINK_PROBLEMS as FOLLOW_UP_LINK_PROBLEMS


@require_http_methods(["GET", "HEAD"])
def entry(request, slug: str):
    """Study link: /s/<slug>/?PROLIFIC_PID=..&STUDY_ID=..&SESSION_ID=..[&lang=es]"""
    study = study_selectors.get_study(slug)
    if study is None:
        return _entry(request, study, None)
    language = study_languages.for_request(request, study)
    with translation.override(language):
        return _entry(request, study, language)


def _entry(request, study, language):
    try:
        if services.is_placeholder_link(request.GET) or "preview" in request.GET:
            # Prolific's template link or a preview link: a preview, for a coordinator or the link's holder only.
            participant = services.start_preview(
                study=study,
                session=request.session,
                user=request.user if request.user.is_authenticated else None,
                token=request.GET.get("preview") or None,
                language=language,
            )
        else:
            prolific = services.parse_prolific_params(request.GET)
            participant = services.enter_study(
                study=study,
                session=request.session,
                prolific=prolific,
                language=language,
                switch_language="lang" in request.GET,
            )
    except services.NoPlacesError as err:
        return _no_places_page(request, study, err)
    except services.ResumeCodeNeeded:
        # Someone else's Prolific ID without their session id: nothing of theirs, only the resume code's page.
        return redirect("journey:resume", slug=study.slug)  # (raised only for a study)
    except services.EntryError as err:
        return error_page(request, err.status, err.title, err.message, study=study if err.status != 404 else None)
    # Redirect so the Prolific ids do not linger in the address bar or history.
    return HttpResponseRedirect(step_url(participant))


@require_http_methods(["GET", "HEAD", "POST"])
def resume(request, slug: str):
    """Carry on in this browser as the participant whose Prolific ID was
    opened here with another session id: only with their resume code."""
    study = study_selectors.get_study(slug)
    if study is None:
        return error_page(request, 404, _("Study not found"), _("We could not find this study. Please check the link."))
    with translation.override(study_languages.for_request(request, study)):
        return _resume(request, study)


def _resume(request, study):
    identity = services.pending_resume(request.session, study)
    if identity is None:
        if study_selectors.participant_for_session(request.session, study) is not None:
            return redirect(step_url(study_selectors.participant_for_session(request.session, study)))
        return error_page(
            request,
            400,
            _("Please start from the study link"),
            _("There is nothing to carry on in this browser. Please open the study from Prolific."),
            study,
        )
    code, error, status = "", "", 200
    if request.method == "POST":
        code = request.POST.get("code", "")
        # Counted per address and per participant, so nobody can try codes for ever.
        throttled = not ratelimit.consume(request, action="resume_code", key=f"{study.pk}:{identity.pk}")
        try:
            participant = services.resume_with_code(
                study=study, session=request.session, code=code, throttled=throttled
            )
        except services.EntryError as err:
            error, status = err.message, err.status
        else:
            return redirect(step_url(participant))
    return render(request, "journey/resume.html", {"study": study, "error": error, "code": code[:20]}, status=status)


def _no_places_page(request, study, err):
    code = study.completion_code_no_places
    return render(
        request,
        "journey/no_places.html",
        {"study": study, "message": err.message, "code": code, "prolific_url": selectors.prolific_redirect_url(code)},
        status=err.status,
    )


@require_http_methods(["GET", "HEAD"])
def preview(request, slug: str):
    """Staff try the study as a participant: a new preview participant each
    time (never counted), in this browser, whatever the study's status."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not request.user.has_perm("studies.change_study"):
        return error_page(request, 403, "Coordinators only", "Previewing a study needs a coordinator's account.")
    study = study_selectors.get_study(slug)
    try:
        participant = services.start_preview(
            study=study, session=request.session, user=request.user, arm=request.GET.get("arm")
        )
    except services.EntryError as err:
        return error_page(request, err.status, err.title, err.message)
    return HttpResponseRedirect(step_url(participant))


@require_http_methods(["GET", "HEAD", "POST"])
@participant_view()
def consent(request, study, participant):
    if participant.current_step == Step.DECLINED:
        return _declined_response(request, study)
    if participant.current_step != Step.CONSENT:
        return redirect(step_url(participant))
    document = study_selectors.current_consent(study)
    if document is None:
        return error_page(
            request, 503, _("Not ready yet"), _("This study has no consent form yet. Please try again later."), study
        )

    if request.method == "POST":
        choice = request.POST.get("choice")
        if choice not in ("accept", "decline") or request.POST.get("consent_hash") != document.content_hash:
            return step_page(
                request,
                "journey/consent.html",
                study,
                participant,
                status=400,
                document=document,
                form_error=_(
                    "The consent form changed or the answer was not understood. Please read it and choose again."
                ),
            )
        services.record_consent(participant=participant, consent=document, accepted=choice == "accept")
        participant.refresh_from_db()
        if participant.current_step == Step.DECLINED:
            return _declined_response(request, study)
        return redirect(step_url(participant))

    return step_page(request, "journey/consent.html", study, participant, document=document)


@require_http_methods(["POST"])
@participant_view()
def language(request, study, participant):
    """The language switcher: the participant's pages in another of the
    study's languages, until the interview starts."""
    try:
        services.set_language(participant, request.POST.get("language", ""))
    except services.LanguageSwitchRefused as err:
        return error_page(request, err.status, err.title, err.message, study)
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(nxt)
    return redirect(step_url(participant))


def _declined_response(request, study):
    url = selectors.prolific_redirect_url(study.completion_code_no_consent)
    if url:
        return HttpResponseRedirect(url)
    return render(request, "journey/declined.html", {"study": study})


@require_http_methods(["GET", "HEAD"])
@participant_view()
def journey(request, study, participant):
    """The page of the participant's current step, as registered by the
    feature that owns it; a step with nothing to show yet says so."""
    step = participant.current_step
    if step == Step.CONSENT:
        return redirect(step_url(participant))
    if step == Step.DECLINED:
        return _declined_response(request, study)
    if step in steps.ENDED:
        return _finished_page(request, study, participant)
    for view in [*steps.interstitials_for(step), steps.page_for(step)]:
        response = view(request, study, participant) if view else None
        if response is not None:
            return response
    # Nothing to show yet (background work for this step): wait, but never for ever.
    limit = settings.STEP_WAIT_SECONDS
    waited = steps.waited_seconds(participant, step)
    if waited >= limit:
        steps.skip(participant, step, reason=f"waited {round(waited)} s for background work")
        return redirect(step_url(participant))
    return step_page(
        request,
        "journey/journey.html",
        study,
        participant,
        step=step,
        step_label=steps.label(step),
        wait_limit=round(limit),
        reload_after=min(round(limit - waited) + 1, settings.STEP_POLL_SECONDS),
    )


def _finished_page(request, study, participant):
    """The end of the journey: a thank-you page with the code for how it
    ended (completed, failed attention check, screened out) and a button
    back to Prolific, so the participant sees their code before leaving."""
    code = selectors.completion_code(participant) if participant.current_step != Step.WITHDRAWN else ""
    url = selectors.prolific_redirect_url(code) if participant.via_prolific else None
    return render(
        request,
        "journey/finished.html",
        {
            "study": study,
            "participant": participant,
            "step": Step(participant.current_step),
            "code": code,
            "prolific_url": url,
            "may_dispute": participant.current_step == Step.COMPLETE,
            "receipt": selectors.deletion_receipt(participant) if participant.current_step == Step.WITHDRAWN else None,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@participant_view()
def withdraw(request, study, participant):
    """Always reachable from the page footer: confirm, then withdraw."""
    if participant.current_step == Step.WITHDRAWN:
        return _finished_page(request, study, participant)
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            return redirect(step_url(participant))
        reason = request.POST.get("reason", "")
        try:
            withdrawal.withdraw(participant, reason=reason)
        except inputs.BadInput as err:
            # Nothing happened yet; the page comes back with their words (minus what cannot be saved).
            return _withdraw_page(
                request, study, participant, error=err.message, reason=inputs.storable(reason), status=400
            )
        participant.refresh_from_db()
        return _finished_page(request, study, participant)
    return _withdraw_page(request, study, participant)


def _withdraw_page(request, study, participant, *, error="", reason="", status=200):
    return step_page(
        request,
        "journey/withdraw.html",
        study,
        participant,
        status=status,
        error=error,
        reason=reason,
        max_reason=withdrawal.REASON_MAX_CHARS,
        deletes_content=study.withdrawal_policy == study.WithdrawalPolicy.DELETE_CONTENT,
    )


# --- disputes: a participant contests how they are represented -------------------------


def _disputes_page(request, study, participant, *, via, post_url, status=200, form=None, error="", notice=""):
    return render(
        request,
        "journey/disputes.html",
        {
            "study": study,
            "participant": participant,
            "subject": selectors.dispute_subject(participant, study_languages.participant_language(participant)),
            "disputes": selectors.disputes_of(participant),
            "post_url": post_url,
            "via": via,
            "form": form or {},
            "error": error,
            "notice": notice,
            "max_chars": TEXT_MAX_CHARS,
            "kinds": Dispute.Kind,
        },
        status=status,
    )


def _disputes(request, study, participant, *, via, post_url):
    """GET: what they may dispute and what became of their disputes; POST: a
    new dispute (a repeat of an open one makes no second)."""
    if request.method != "POST":
        notice = {
            "sent": _(
                "Thank you: your dispute is recorded. A coordinator will look at it; the outcome will be "
                "shown here, at this link."
            ),
            "already": _(
                "You already have an open dispute about this; it is shown below. The outcome will be shown here."
            ),
        }.get(request.GET.get("done", ""), "")
        return _disputes_page(request, study, participant, via=via, post_url=post_url, notice=notice)
    form = {
        "kind": request.POST.get("kind", ""),
        "story": request.POST.get("story", ""),
        "text": request.POST.get("text", ""),
    }
    try:
        _dispute, created = dispute_services.open_dispute(
            participant=participant,
            kind=form["kind"],
            text=form["text"],
            via=via,
            story_id=inputs.parse_id(form["story"]),
        )
    except (inputs.BadInput, dispute_services.DisputeError) as err:
        # Nothing stored; their words come back in the form (minus what cannot be saved).
        form["text"] = inputs.storable(form["text"])
        return _disputes_page(
            request,
            study,
            participant,
            via=via,
            post_url=post_url,
            form=form,
            status=400,
            error=getattr(err, "message", str(err)),
        )
    return redirect(f"{post_url}?done={'sent' if created else 'already'}#your-disputes")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@participant_view(at=(Step.COMPLETE,))
def disputes(request, study, participant):
    """From the thank-you page (the participant's own browser session)."""
    return _disputes(
        request,
        study,
        participant,
        via=Dispute.Via.THANK_YOU,
        post_url=reverse("journey:disputes", kwargs={"slug": study.slug}),
    )


@never_cache  # a bearer link to personal words: no shared caches
@require_http_methods(["GET", "HEAD", "POST"])
def follow_up_disputes(request, token: str):
    """From the signed follow-up link: the same page, found by the link."""
    link, problem = survey_selectors.follow_up_link(token)
    if problem:
        status, title, message = FOLLOW_UP_LINK_PROBLEMS[problem]
        return error_page(request, status, title, message, study=link.participant.study if link else None)
    participant = link.participant  # type: ignore[union-attr]  # no problem: a link
    if participant.current_step != Step.COMPLETE:
        with translation.override(study_languages.participant_language(participant)):
            return error_page(
                request,
                404,
                _("Nothing to dispute"),
                _("Only participants who completed the study can dispute how they are represented."),
            )
    with translation.override(study_languages.participant_language(participant)):
        return _disputes(
            request,
            participant.study,
            participant,
            via=Dispute.Via.FOLLOW_UP,
            post_url=reverse("journey:follow_up_disputes", kwargs={"token": token}),
        )
