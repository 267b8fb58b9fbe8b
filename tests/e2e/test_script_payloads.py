"""Text that participants type is shown to coordinators, auditors and the
public as text, never run: script payloads typed into the chat, the card,
a vote reason and a withdrawal reason, and a value's title, are inert on
every page that shows them (participant, admin, explorer)."""

import pytest
from django.test import Client

from tests.e2e.helpers import beside_the_browser

pytestmark = pytest.mark.django_db(transaction=True)

PAYLOADS = [
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned = 'img'\">",
    '"><svg onload="window.__pwned = \'svg\'">',
    "javascript:window.__pwned='link'",
]
SAY = " and ".join(PAYLOADS)


def _injected(page) -> dict:
    """Elements the payloads would have made if they had been written into the page as markup."""
    return page.evaluate("""() => ({
        pwned: window.__pwned || null,
        inline_scripts: [...document.querySelectorAll('script:not([src])')]
            .filter(s => s.textContent.includes('__pwned')).length,
        handlers: document.querySelectorAll('[onerror],[onload]').length,
        links: [...document.querySelectorAll('a[href]')]
            .filter(a => a.getAttribute('href').trim().toLowerCase().startsWith('javascript:')).length,
    })""")


def _prepare():
    from graph import services as graph_services
    from graph import stories
    from interviews import services as chat
    from mgeplatform import services as platform_services
    from studies import services
    from studies.models import Step
    from tests.factories import canonical_value, make_values, move_to, parent_with_card, run_interview

    study, _ = services.seed_case_study()
    study.graph_public = True
    study.save()
    values = make_values(study)
    canonical_value(study, PAYLOADS[1])
    stories.generate_stories(study)
    voter, voter_client = parent_with_card(study, "voter-payload", values[1])
    move_to(voter, Step.STORIES)
    assignment = graph_services.next_assignment(voter)
    graph_services.record_vote(participant=voter, assignment=assignment, answer="yes", reason=SAY)
    graph_services.build_snapshot(study, include_simulated=True)

    writer, writer_client = services_participant(study)
    interview, _ = run_interview(
        writer,
        study.scenarios.get(key="parenting"),
        answers=[SAY, f"I care about {PAYLOADS[0]}", PAYLOADS[2], PAYLOADS[3]],
        submit=False,
    )
    chat.edit_card(interview_id=interview.pk, title=PAYLOADS[2][:60], description=SAY[:300], policies=PAYLOADS)
    coordinator = platform_services.upsert_staff_user(email="c@example.org", role="coordinator", password="x-pass-123")
    staff = Client()
    staff.force_login(coordinator)
    return {
        "study": study,
        "writer": writer,
        "interview": interview,
        "voter": voter,
        "value": values[1],
        "writer_session": writer_client.cookies["sessionid"].value,
        "staff_session": staff.cookies["sessionid"].value,
    }


def services_participant(study):
    from tests.factories import consented_participant

    return consented_participant(study, "writer-payload")


def test_typed_script_payloads_never_run_on_any_page(asgi_live_server, browser, screenshot_dir):
    made = beside_the_browser(_prepare)
    study, base = made["study"], asgi_live_server.url
    staff_pages = [
        f"/admin/studies/participant/{made['writer'].pk}/change/",
        f"/admin/studies/participant/{made['voter'].pk}/change/",
        f"/admin/interviews/interview/{made['interview'].pk}/change/",
        f"/admin/values/canonicalvalue/{made['value'].pk}/change/",
        "/admin/values/valuescard/",
        "/admin/values/canonicalvalue/",
        "/admin/graph/wisdomvote/",
        f"/admin/studies/study/{study.pk}/console/",
        f"/admin/studies/study/{study.pk}/report/",
        "/admin/mgeplatform/domainevent/",
    ]
    public_pages = [f"/graph/{study.slug}/", f"/graph/{study.slug}/winners/"]
    seen, shown, dialogs = {}, {}, []
    participant_pages = [f"/s/{study.slug}/journey/"]
    for session, pages in (
        (made["staff_session"], staff_pages),
        (made["writer_session"], participant_pages),
        (None, public_pages),
    ):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        if session:
            context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for path in pages:
            response = page.goto(base + path)
            assert response.status == 200, path
            page.wait_for_load_state("networkidle")
            seen[path] = {**_injected(page), "dialogs": len(dialogs)}
            shown[path] = page.inner_text("body")
        context.close()
    assert seen == {
        path: {"pwned": None, "inline_scripts": 0, "handlers": 0, "links": 0, "dialogs": 0}
        for path in staff_pages + [f"/s/{study.slug}/journey/"] + public_pages
    }
    # The payloads are there, as text, where people look for them.
    for path in (
        f"/admin/studies/participant/{made['writer'].pk}/change/",
        f"/admin/interviews/interview/{made['interview'].pk}/change/",
        f"/s/{study.slug}/journey/",
    ):
        assert PAYLOADS[0] in shown[path] and PAYLOADS[1] in shown[path], path
    assert (
        PAYLOADS[1] in shown["/admin/graph/wisdomvote/"]
        or SAY in shown[f"/admin/studies/participant/{made['voter'].pk}/change/"]
    )
    assert PAYLOADS[1] in shown["/admin/values/canonicalvalue/"]
