"""Who may open what: every URL pattern of the site (from the URL conf, the
admin's included), every admin action and every websocket route, for five
kinds of visitor, against a table of expected answers. A new URL, admin
model, action or websocket route without a row here fails the test, so
access is decided when the page is added, not found out later."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from config.routing import websocket_urlpatterns
from studies import services as studies_services
from studies.models import Participant
from studies.tasks import record_study_statistics
from tests.factories import PROLIFIC, enter

OTHER_PROLIFIC = {"PROLIFIC_PID": "another-pid", "STUDY_ID": "another-study-id", "SESSION_ID": "another-session"}
ROLES = ("anonymous", "participant", "other_participant", "coordinator", "auditor")

# The answers a cell can hold.
OK = "200"  # the page
LOGIN = "login"  # redirected to sign in
NO = "403"  # refused
GONE = "404"  # not found (nothing to say who may see it)
MOVED = "302"  # sent on elsewhere (the journey's next step, the admin index, ...)
POST_ONLY = "405"  # not for GET
NOTHING_HERE = "400"  # nothing to do in this browser (no resume waiting for a code)

# Pages outside the admin: {route: (path, {role: answer})}. {slug} is the
# study a participant is in; the other participant is in another study.
PAGES: dict[str, tuple[str, tuple]] = {}


def row(route, path, anonymous, participant, other_participant, coordinator, auditor):
    PAGES[route] = (path, (anonymous, participant, other_participant, coordinator, auditor))


STAFF_ONLY = (LOGIN, LOGIN, LOGIN)  # the first three roles have no account

# --- the site and the participant's pages
row("", "/", OK, OK, OK, OK, OK)
row("healthz", "/healthz", OK, OK, OK, OK, OK)
row("s/<slug:slug>/", "/s/{slug}/", MOVED, MOVED, MOVED, MOVED, MOVED)
row("s/<slug:slug>/preview/", "/s/{slug}/preview/", *STAFF_ONLY, MOVED, NO)  # a preview writes: coordinators
# Without this study's participant in the browser's session: "start from the study link" (403).
row("s/<slug:slug>/consent/", "/s/{slug}/consent/", NO, OK, NO, NO, NO)
row("s/<slug:slug>/journey/", "/s/{slug}/journey/", NO, MOVED, NO, NO, NO)  # the participant: on to consent
row("s/<slug:slug>/withdraw/", "/s/{slug}/withdraw/", NO, OK, NO, NO, NO)
# The resume-code page: only for a browser that opened a participant's Prolific ID without their session id.
row("s/<slug:slug>/resume/", "/s/{slug}/resume/", NOTHING_HERE, MOVED, NOTHING_HERE, NOTHING_HERE, NOTHING_HERE)
# The language switcher: a form post only.
row("s/<slug:slug>/language/", "/s/{slug}/language/", POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY)
row("s/<slug:slug>/scenario/", "/s/{slug}/scenario/", POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY)
row("s/<slug:slug>/approval/", "/s/{slug}/approval/", POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY)
row("s/<slug:slug>/relevance/", "/s/{slug}/relevance/", POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY)
row("s/<slug:slug>/stories/vote/", "/s/{slug}/stories/vote/", POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY)
row("s/<slug:slug>/survey/", "/s/{slug}/survey/", POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY, POST_ONLY)
row("f/<str:token>/", "/f/not-a-real-link/", GONE, GONE, GONE, GONE, GONE)
# Disputes: the participant's own (this one is at consent, so sent on to their step), or by the follow-up link.
row("s/<slug:slug>/disputes/", "/s/{slug}/disputes/", NO, MOVED, NO, NO, NO)
row("f/<str:token>/disputes/", "/f/not-a-real-link/disputes/", GONE, GONE, GONE, GONE, GONE)
# --- the moral graph's public pages (this study's graph is not public)
row("graph/<slug:slug>/", "/graph/{slug}/", NO, NO, NO, OK, OK)
row("graph/<slug:slug>/data.json", "/graph/{slug}/data.json", NO, NO, NO, GONE, GONE)  # no graph built yet
row("graph/<slug:slug>/winners/", "/graph/{slug}/winners/", NO, NO, NO, OK, OK)
row("graph/<slug:slug>/scalability/", "/graph/{slug}/scalability/", NO, NO, NO, OK, OK)
# --- the wise-response playground (alignment): coordinators converse, auditors read; not public here
row("graph/<slug:slug>/playground/", "/graph/{slug}/playground/", NO, NO, NO, OK, OK)
row("graph/<slug:slug>/playground/<int:pk>/", "/graph/{slug}/playground/999999999/", NO, NO, NO, GONE, GONE)
row(
    "graph/<slug:slug>/playground/<int:pk>/export.json",
    "/graph/{slug}/playground/999999999/export.json",
    NO,
    NO,
    NO,
    GONE,
    GONE,
)
row("playground/shared/<str:token>/", "/playground/shared/not-a-real-token/", GONE, GONE, GONE, GONE, GONE)
row(
    "playground/shared/<str:token>/export.json",
    "/playground/shared/not-a-real-token/export.json",
    GONE,
    GONE,
    GONE,
    GONE,
    GONE,
)
# --- staff sign-in (allauth); sign-up is closed
row("accounts/login/", "/accounts/login/", OK, OK, OK, MOVED, MOVED)
row("accounts/logout/", "/accounts/logout/", LOGIN, LOGIN, LOGIN, OK, OK)
row("accounts/inactive/", "/accounts/inactive/", OK, OK, OK, OK, OK)
row("accounts/signup/", "/accounts/signup/", OK, OK, OK, MOVED, MOVED)  # the "sign-up is closed" page
row("accounts/reauthenticate/", "/accounts/reauthenticate/", *STAFF_ONLY, OK, OK)
row("accounts/email/", "/accounts/email/", *STAFF_ONLY, OK, OK)
row("accounts/confirm-email/", "/accounts/confirm-email/", OK, OK, OK, OK, OK)
row("accounts/password/change/", "/accounts/password/change/", *STAFF_ONLY, OK, OK)
row("accounts/password/set/", "/accounts/password/set/", *STAFF_ONLY, MOVED, MOVED)
row("accounts/password/reset/", "/accounts/password/reset/", OK, OK, OK, OK, OK)
row("accounts/login/code/confirm/", "/accounts/login/code/confirm/", LOGIN, LOGIN, LOGIN, MOVED, MOVED)
row("accounts/^confirm-email/(?P<key>[-:\\w]+)/$", "/accounts/confirm-email/not-a-key/", OK, OK, OK, OK, OK)
row("accounts/password/reset/key/done/", "/accounts/password/reset/key/done/", OK, OK, OK, OK, OK)
row(
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
    "/accounts/password/reset/key/1-x/",
    OK,
    OK,
    OK,
    OK,
    OK,
)
row("accounts/password/reset/done/", "/accounts/password/reset/done/", OK, OK, OK, OK, OK)
row("accounts/2fa/", "/accounts/2fa/", *STAFF_ONLY, OK, OK)
row("accounts/2fa/authenticate/", "/accounts/2fa/authenticate/", LOGIN, LOGIN, LOGIN, MOVED, MOVED)
row("accounts/2fa/reauthenticate/", "/accounts/2fa/reauthenticate/", *STAFF_ONLY, MOVED, MOVED)
row("accounts/2fa/totp/activate/", "/accounts/2fa/totp/activate/", *STAFF_ONLY, MOVED, MOVED)
row("accounts/2fa/totp/deactivate/", "/accounts/2fa/totp/deactivate/", *STAFF_ONLY, GONE, GONE)
row("accounts/2fa/recovery-codes/", "/accounts/2fa/recovery-codes/", *STAFF_ONLY, GONE, GONE)
row("accounts/2fa/recovery-codes/generate/", "/accounts/2fa/recovery-codes/generate/", *STAFF_ONLY, MOVED, MOVED)
row("accounts/2fa/recovery-codes/download/", "/accounts/2fa/recovery-codes/download/", *STAFF_ONLY, GONE, GONE)
# --- the admin site's own pages
row("admin/", "/admin/", *STAFF_ONLY, OK, OK)
row("admin/login/", "/admin/login/", LOGIN, LOGIN, LOGIN, MOVED, MOVED)  # allauth's page instead
row("admin/logout/", "/admin/logout/", MOVED, MOVED, MOVED, POST_ONLY, POST_ONLY)
row("admin/password_change/", "/admin/password_change/", *STAFF_ONLY, OK, OK)
row("admin/password_change/done/", "/admin/password_change/done/", *STAFF_ONLY, OK, OK)
row("admin/autocomplete/", "/admin/autocomplete/", *STAFF_ONLY, NO, NO)
row("admin/jsi18n/", "/admin/jsi18n/", *STAFF_ONLY, OK, OK)
row(
    "admin/r/<path:content_type_id>/<path:object_id>/", "/admin/r/{study_ct}/{study_pk}/", *STAFF_ONLY, MOVED, MOVED
)  # "view on site": the study's own link
row(
    "admin/^(?P<app_label>auth|account|mfa|mgeplatform|procrastinate|studies|interviews|values|graph|surveys|alignment|"
    "journey|pghistory)/$",
    "/admin/studies/",
    *STAFF_ONLY,
    OK,
    OK,
)
row("admin/(?P<url>.*)$", "/admin/no-such-page/", *STAFF_ONLY, GONE, GONE)
# --- admin pages of our own, beyond each model's list and forms
row("admin/studies/study/<int:pk>/report/", "/admin/studies/study/{study_pk}/report/", *STAFF_ONLY, OK, OK)
row("admin/studies/study/<int:pk>/export/", "/admin/studies/study/{study_pk}/export/", *STAFF_ONLY, OK, OK)
row("admin/studies/study/<int:pk>/console/", "/admin/studies/study/{study_pk}/console/", *STAFF_ONLY, OK, OK)
row("admin/studies/study/<int:pk>/console/live/", "/admin/studies/study/{study_pk}/console/live/", *STAFF_ONLY, OK, OK)
row("admin/studies/study/<int:pk>/seed-values/", "/admin/studies/study/{study_pk}/seed-values/", *STAFF_ONLY, OK, NO)
row(
    "admin/studies/study/<int:pk>/write-stories/",
    "/admin/studies/study/{study_pk}/write-stories/",
    *STAFF_ONLY,
    MOVED,
    NO,
)
row(
    "admin/studies/participant/<path:object_id>/prolific-id/",
    "/admin/studies/participant/{participant_pk}/prolific-id/",
    *STAFF_ONLY,
    OK,
    NO,
)
row("admin/values/canonicalvalue/closest-pairs/", "/admin/values/canonicalvalue/closest-pairs/", *STAFF_ONLY, OK, OK)
row(
    "admin/graph/transitionstory/edge/<int:from_id>/<int:to_id>/",
    "/admin/graph/transitionstory/edge/{value_a}/{value_b}/",
    *STAFF_ONLY,
    OK,
    OK,
)
row(
    "admin/graph/graphsnapshot/<int:pk>/export/<str:fmt>/",
    "/admin/graph/graphsnapshot/0/export/json/",
    *STAFF_ONLY,
    GONE,
    GONE,
)
row("admin/auth/user/<id>/password/", "/admin/auth/user/{auditor_pk}/password/", *STAFF_ONLY, NO, NO)
row("admin/surveys/followuplink/issue/", "/admin/surveys/followuplink/issue/", *STAFF_ONLY, OK, NO)
row("admin/alignment/answeraudit/run/", "/admin/alignment/answeraudit/run/", *STAFF_ONLY, OK, NO)  # runs model calls
# Training-data exports: coordinators start them (model calls) and download the files; auditors follow them.
row("admin/alignment/trainingrun/start/", "/admin/alignment/trainingrun/start/", *STAFF_ONLY, OK, NO)
row(
    "admin/alignment/trainingrun/<int:pk>/live/",
    "/admin/alignment/trainingrun/999999999/live/",
    *STAFF_ONLY,
    GONE,
    GONE,
)
row(
    "admin/alignment/trainingrun/<int:pk>/download/<str:name>",
    "/admin/alignment/trainingrun/999999999/download/sft.jsonl",
    *STAFF_ONLY,
    GONE,
    NO,
)
row(
    "admin/alignment/trainingrun/<int:pk>/rerun/",
    "/admin/alignment/trainingrun/999999999/rerun/",
    *STAFF_ONLY,
    GONE,
    NO,
)  # the same export on the snapshot built again without withdrawn participants

# Each registered admin model's own pages (list, add, change, delete,
# history, and the bare object URL that redirects to change), from what
# each role may do with it: "edit" (add, change, delete), "view", or "none".
# {model label: (coordinator, auditor)}
EDIT, VIEW, NONE = "edit", "view", "none"
ADMIN_MODELS = {
    # Accounts and their sign-in factors: only superusers manage them.
    "auth.group": (NONE, NONE),
    "auth.user": (NONE, NONE),
    "account.emailaddress": (NONE, NONE),
    "mfa.authenticator": (NONE, NONE),
    # The audit trail and the job queue: read-only for both roles.
    "mgeplatform.domainevent": (VIEW, VIEW),
    "mgeplatform.llmcall": (VIEW, VIEW),
    "pghistory.events": (VIEW, VIEW),
    "procrastinate.procrastinatejob": (VIEW, VIEW),
    # Research data: coordinators manage, auditors read; records written only by services are read-only.
    "studies.study": (EDIT, VIEW),
    "studies.consentdocument": (EDIT, VIEW),
    "studies.participant": (VIEW, VIEW),
    "studies.prolificidentity": (VIEW, VIEW),
    "studies.consentrecord": (VIEW, VIEW),
    "studies.studystatistics": (VIEW, VIEW),
    "interviews.interview": (VIEW, VIEW),
    "values.canonicalvalue": (EDIT, VIEW),
    "values.valuescard": (VIEW, VIEW),
    "values.deduplicationdecision": (VIEW, VIEW),
    "values.deduplicationrun": (VIEW, VIEW),
    "graph.moralcontext": (EDIT, VIEW),
    "graph.storyrun": (VIEW, VIEW),
    "graph.transitionstory": (VIEW, VIEW),
    "graph.wisdomvote": (VIEW, VIEW),
    "graph.graphimport": (VIEW, VIEW),
    "graph.graphsnapshot": (VIEW, VIEW),
    "surveys.itembank": (EDIT, VIEW),
    "surveys.surveyresponse": (VIEW, VIEW),
    "surveys.followuplink": (VIEW, VIEW),
    "alignment.answeraudit": (VIEW, VIEW),  # written by the audit service; coordinators run audits on "run/"
    "alignment.playgroundconversation": (VIEW, VIEW),  # written by the playground's pages
    "alignment.trainingrun": (VIEW, VIEW),  # written by the export job; coordinators start one on "start/"
    "journey.dispute": (VIEW, VIEW),  # written by participants; coordinators decide with the actions below
}

# Admin actions: {(model label, action): (coordinator may, auditor may)}.
ACTIONS = {
    ("studies.study", "record_statistics"): (True, False),
    ("studies.study", "generate_stories"): (True, False),
    ("studies.study", "seed_values"): (True, False),
    ("studies.study", "check_model"): (True, False),
    ("studies.study", "build_moral_graph"): (True, False),
    ("studies.study", "rate_transcripts"): (True, False),
    ("studies.study", "delete_previews"): (True, False),
    ("studies.study", "open_retest_round"): (True, False),  # asks for the sample first, then invites
    ("studies.study", "export_data"): (True, True),  # the export page then asks; identities need more
    ("studies.study", "delete_selected"): (True, False),
    ("studies.consentdocument", "delete_selected"): (True, False),
    ("studies.participant", "screen_out"): (True, False),
    ("procrastinate.procrastinatejob", "retry"): (True, False),
    ("procrastinate.procrastinatejob", "cancel"): (True, False),
    ("procrastinate.procrastinatejob", "abort"): (True, False),
    ("values.canonicalvalue", "merge_into_oldest"): (True, False),
    ("values.canonicalvalue", "delete_selected"): (True, False),
    ("values.valuescard", "split_into_new_value"): (True, False),
    ("graph.moralcontext", "delete_selected"): (True, False),
    ("graph.transitionstory", "archive"): (True, False),
    ("graph.graphsnapshot", "rebuild_without_withdrawn"): (True, False),
    ("surveys.itembank", "new_version_from_bank"): (True, False),
    ("surveys.itembank", "publish"): (True, False),
    ("surveys.itembank", "delete_selected"): (True, False),
    ("surveys.followuplink", "export_csv"): (True, False),
    ("journey.dispute", "uphold"): (True, False),
    ("journey.dispute", "reject"): (True, False),
    ("auth.user", "delete_selected"): (False, False),
    ("auth.group", "delete_selected"): (False, False),
    ("account.emailaddress", "delete_selected"): (False, False),
    ("account.emailaddress", "make_verified"): (False, False),
    ("mfa.authenticator", "delete_selected"): (False, False),
}

# Websockets: {route: {role: accepted?}}. Only the participant's own
# browser gets the journey socket; the interview socket waits for the
# interview step (this participant is at consent), so it is closed for all.
WEBSOCKETS = {
    "ws/s/<slug:slug>/journey/": (False, True, False, False, False),
    "ws/s/<slug:slug>/interview/": (False, False, False, False, False),
}

MODEL_PAGES = {
    "changelist": "",
    "add": "add/",
    "change": "{obj}/change/",
    "delete": "{obj}/delete/",
    "history": "{obj}/history/",
    "object": "{obj}/",
}


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def _model_pages() -> dict[str, tuple[str, str]]:
    """{route: (model label, page)} for the pages every ModelAdmin has."""
    pages = {}
    for model in admin.site._registry:
        base = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        for page, suffix in MODEL_PAGES.items():
            pages[base + suffix.replace("{obj}", "<path:object_id>")] = (model._meta.label_lower, page)
    return pages


def all_routes() -> list[str]:
    return [route for route, _ in _walk(get_resolver().url_patterns)]


def test_every_url_admin_model_action_and_websocket_has_a_row():
    model_pages = _model_pages()
    routes = all_routes()
    missing = [r for r in routes if r not in PAGES and r not in model_pages]
    assert not missing, f"add these URL patterns to the permission matrix: {missing}"
    stale = [r for r in PAGES if r not in routes]
    assert not stale, f"these rows name URL patterns that no longer exist: {stale}"
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_MODELS), (
        f"admin models without a row: {registered - set(ADMIN_MODELS)}; "
        f"rows for no admin model: {set(ADMIN_MODELS) - registered}"
    )
    assert set(_registered_actions()) == set(ACTIONS), "admin actions and the ACTIONS table differ"
    assert {str(p.pattern) for p in websocket_urlpatterns} == set(WEBSOCKETS)


def _registered_actions():
    superuser = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.get_actions(request):
            yield model._meta.label_lower, name


# --- the world the matrix runs in -------------------------------------------------------


@pytest.fixture
def world(graph_study, coordinator, auditor):
    from django.contrib.contenttypes.models import ContentType

    study, values = graph_study
    participant_client = Client()
    assert enter(participant_client, study, **PROLIFIC).status_code == 302
    other_study, _ = studies_services.seed_case_study(slug="another-study")
    other_client = Client()
    assert enter(other_client, other_study, **OTHER_PROLIFIC).status_code == 302
    record_study_statistics.defer(study_id=study.pk)  # a job in the queue
    participant = Participant.objects.get(prolific_identity__prolific_pid=PROLIFIC["PROLIFIC_PID"])
    params = {
        "slug": study.slug,
        "study_pk": study.pk,
        "participant_pk": participant.pk,
        "study_ct": ContentType.objects.get_for_model(study).pk,
        "auditor_pk": auditor.pk,
        "value_a": values[0].pk,
        "value_b": values[1].pk,
    }
    return {
        "params": params,
        "participant": dict(participant_client.session.items()),
        "other_participant": dict(other_client.session.items()),
        "coordinator": coordinator,
        "auditor": auditor,
    }


def _client(world, role):
    if role == "anonymous":
        return Client()
    if role in ("participant", "other_participant"):
        # A copy of their session each time: the study link, for one, joins the browser to the
        # study, which would change what the next page in the table answers.
        session = SessionStore()
        session.update(world[role])
        session.save()
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
        return client
    client = Client()  # a fresh one each time: a preview would tie the staff session to a participant
    client.force_login(world[role])
    return client


def _answer(response) -> str:
    if response.status_code in (301, 302):
        return LOGIN if "/login/" in response["Location"] else MOVED
    return str(response.status_code)


def _model_answers(label, page, has_object):
    """What each role gets on a model's standard admin page."""
    answers = list(STAFF_ONLY)
    for access in ADMIN_MODELS[label]:
        if page == "object":
            answers.append(MOVED)  # the bare object URL sends on to its change page, which decides
        elif page == "delete":  # permission first, then whether the object exists
            answers.append(NO if access != EDIT else OK if has_object else MOVED)
        elif page == "history" and not has_object:
            answers.append(MOVED)  # "does not exist": back to the admin index
        elif access == NONE:
            answers.append(NO)
        elif page == "change" and not has_object:
            answers.append(MOVED)
        elif page in ("changelist", "change", "history"):
            answers.append(OK)
        else:  # add
            answers.append(OK if access == EDIT else NO)
    return tuple(answers)


def _absent_pk(model) -> str:
    return "00000000-0000-0000-0000-000000000000" if model._meta.pk.get_internal_type() == "UUIDField" else "999999999"


def _admin_object(model) -> str:
    obj = model._default_manager.order_by("pk").first()
    return str(quote(obj.pk)) if obj is not None else _absent_pk(model)


def matrix_cells(world):
    """(route, path, role, expected) for every URL pattern and role."""
    model_pages = _model_pages()
    models = {model._meta.label_lower: model for model in admin.site._registry}
    for route in all_routes():
        if route in PAGES:
            path, expected = PAGES[route]
            path = path.format(**world["params"])
        else:
            label, page = model_pages[route]
            model = models[label]
            obj = model._default_manager.order_by("pk").first()
            path = "/" + route.replace("<path:object_id>", _admin_object(model))
            expected = _model_answers(label, page, obj is not None)
        yield from ((route, path, role, answer) for role, answer in zip(ROLES, expected))


def test_every_url_answers_each_role_as_the_table_says(world):
    wrong = []
    cells = list(matrix_cells(world))
    for route, path, role, expected in cells:
        got = _answer(_client(world, role).get(path))
        if got != expected:
            wrong.append(f"{role:18} {path:60} ({route}) expected {expected}, got {got}")
    assert not wrong, f"{len(wrong)} of {len(cells)} cells differ:\n" + "\n".join(wrong)


def test_every_admin_action_is_offered_and_accepted_only_where_the_table_says(world):
    models = {model._meta.label_lower: model for model in admin.site._registry}
    wrong = []
    for (label, action), (coordinator_may, auditor_may) in ACTIONS.items():
        model = models[label]
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        selected = [_admin_object(model)]
        for role, may in (("coordinator", coordinator_may), ("auditor", auditor_may)):
            # The action menu (shown when the list has rows) is what Django checks a submitted action against.
            request = RequestFactory().get(url)
            request.user = world[role]
            model_admin = admin.site._registry[model]
            offered = model_admin.has_view_or_change_permission(request) and action in dict(
                model_admin.get_action_choices(request)
            )
            if offered != may:
                wrong.append(f"{role} {label} {action}: expected {'offered' if may else 'not offered'}")
            if not may:
                client = _client(world, role)
                menu = 'name="action"' in client.get(url).content.decode()
                response = client.post(url, {"action": action, "_selected_action": selected, "index": "0"}, follow=True)
                # Refused: "No action selected", or no actions at all here (the list is drawn again).
                refused = response.status_code == 403 or "No action selected" in response.content.decode() or not menu
                if not refused:
                    wrong.append(f"{role} {label} {action}: a refused action was not refused")
        for role in ("anonymous", "participant", "other_participant"):
            response = _client(world, role).post(url, {"action": action, "_selected_action": selected, "index": "0"})
            if _answer(response) != LOGIN:
                wrong.append(f"{role} {label} {action}: expected login, got {_answer(response)}")
    assert not wrong, "\n".join(wrong)


# --- websockets -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_websockets_accept_only_the_participants_own_browser(coordinator, auditor):
    from config.asgi import application

    study, _ = studies_services.seed_case_study()
    other_study, _ = studies_services.seed_case_study(slug="another-study")
    cookies = {}
    for role, (target, params) in {
        "participant": (study, PROLIFIC),
        "other_participant": (other_study, OTHER_PROLIFIC),
    }.items():
        client = Client()
        enter(client, target, **params)
        cookies[role] = client.cookies["sessionid"].value
    for role, user in (("coordinator", coordinator), ("auditor", auditor)):
        client = Client()
        client.force_login(user)
        cookies[role] = client.cookies["sessionid"].value

    async def accepted(route, role):
        path = "/" + route.replace("<slug:slug>", study.slug)
        headers = [(b"origin", b"http://localhost")]
        if role in cookies:
            headers.append((b"cookie", f"sessionid={cookies[role]}".encode()))
        ws = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await ws.connect(timeout=5)
        if connected:
            try:  # a consumer may accept, then close at once with its reason
                await ws.receive_json_from(timeout=2)
            except Exception:  # closed or silent
                connected = False
        await ws.disconnect()
        return connected

    wrong = []
    for route, expected in WEBSOCKETS.items():
        for role, may in zip(ROLES, expected):
            if async_to_sync(accepted)(route, role) != may:
                wrong.append(f"{role} {route}: expected {'accepted' if may else 'closed'}")
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_the_whole_site():
    # A floor, so the matrix cannot quietly shrink (e.g. the admin's URLs no longer walked).
    assert len(all_routes()) >= 200 and len(ACTIONS) >= 25 and len(WEBSOCKETS) == 2
