"""The moral graph explorer, the winning values per scenario and the
scalability view. Coordinators and auditors (staff who may view graph
snapshots) see every study's graph; anyone sees a study's graph when the
study is marked `graph_public`, anonymised."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_safe

from graph import explorer
from graph.models import GraphSnapshot
from mgeplatform import charts
from studies import selectors as study_selectors
from studies.models import Study

CYTOSCAPE = "vendor/cytoscape/cytoscape.min.js"


def _cytoscape_url() -> str | None:
    """None when `npm ci` has not run: the page then shows its tables only."""
    if not finders.find(CYTOSCAPE):
        return None
    try:
        return static(CYTOSCAPE)
    except ValueError:  # manifest storage without the file collected
        return None


def _study(request, slug):
    study = get_object_or_404(Study, slug=slug)
    return study, explorer.access(request.user, study)


def _denied(request, study, page: str):
    return render(
        request,
        "graph/explorer.html",
        {"study": study, "denied": True, "page": page, "login_url": f"{reverse('account_login')}?next={request.path}"},
        status=403,
    )


def _snapshot(request, study):
    """(snapshot shown, a newer empty snapshot passed over or None)."""
    try:
        return explorer.snapshot_to_show(study, request.GET.get("snapshot"))
    except GraphSnapshot.DoesNotExist:
        raise Http404("No such graph snapshot for this study.")


def _admin_value_url(value_id: int) -> str:
    return reverse("admin:values_canonicalvalue_change", args=[value_id])


def _base_context(request, study, shown, access, page):
    snapshot, passed_over = shown
    staff = access == "staff"
    return {
        "study": study,
        "snapshot": snapshot,
        "staff": staff,
        "public": access == "public",
        "building": study_selectors.demo_build(study),
        "page": page,
        "snapshots": explorer.snapshot_choices(study),
        "min_votes": explorer.min_votes(),
        "snapshot_param": request.GET.get("snapshot", "") if snapshot else "",
        "facts": explorer.snapshot_facts(snapshot, staff=staff) if snapshot else None,
        "page_links": [
            {"label": link["label"], "url": reverse(link["url_name"], args=[study.slug])}
            for link in explorer.page_links(request.user, study)
        ],
        "passed_over": explorer.snapshot_facts(passed_over, staff=staff) if passed_over else None,
        "sections": explorer.sections(study),
    }


@require_safe
def graph_explorer(request, slug: str):
    study, access = _study(request, slug)
    if access is None:
        return _denied(request, study, "explorer")
    shown = _snapshot(request, study)
    snapshot = shown[0]
    context = _base_context(request, study, shown, access, "explorer")
    if snapshot is not None:
        chosen = request.GET.get("context", "")
        selected = explorer.filter_contexts(snapshot, chosen)
        tables = explorer.edge_tables(snapshot)
        for edge in tables["kept_edges"]:
            edge["contexts_attr"] = " ".join(str(c) for c in edge["contexts"])
            edge["shown"] = selected is None or bool(selected.intersection(str(c) for c in edge["contexts"]))
        data_url = reverse("graph:data", args=[study.slug]) + f"?snapshot={snapshot.pk}"
        context.update(tables)
        context.update(
            {
                "filter_groups": explorer.filter_options(snapshot),
                "selected": chosen if selected is not None else "",
                "ranking": explorer.ranking(snapshot),
                "data_url": data_url,
                "cytoscape_url": _cytoscape_url(),
                "shown_edges": sum(1 for e in tables["kept_edges"] if e["shown"]),
                "value_count": len(snapshot.values),
                "splits": explorer.split_scopes(snapshot),
            }
        )
    return render(request, "graph/explorer.html", context)


@require_safe
def graph_data(request, slug: str):
    study, access = _study(request, slug)
    if access is None:
        return JsonResponse({"error": "This moral graph is not public."}, status=403)
    snapshot, _ = _snapshot(request, study)
    if snapshot is None:
        return JsonResponse({"error": "No graph has been built for this study yet."}, status=404)
    staff = access == "staff"
    data = explorer.graph_data(snapshot, staff=staff, admin_url=_admin_value_url if staff else None)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-cache" if staff else "no-cache"
    return response


@require_safe
def graph_winners(request, slug: str):
    study, access = _study(request, slug)
    if access is None:
        return _denied(request, study, "winners")
    shown = _snapshot(request, study)
    snapshot = shown[0]
    context = _base_context(request, study, shown, access, "winners")
    if snapshot is not None:
        context["scenarios"] = explorer.winners(snapshot)
    return render(request, "graph/winners.html", context)


# --- scalability -------------------------------------------------------------


@require_safe
def graph_scalability(request, slug: str):
    study, access = _study(request, slug)
    if access is None:
        return _denied(request, study, "scalability")
    shown = _snapshot(request, study)
    snapshot = shown[0]
    context = _base_context(request, study, shown, access, "scalability")
    choices = explorer.value_choices(study, snapshot)
    raw = request.GET.get("value", "")
    value = next((c for c in choices if str(c["id"]) == raw), None)
    include_simulated = access == "staff" and request.GET.get("simulated") == "1"
    context.update(
        {
            "choices": choices,
            "value": value,
            "unknown_value": bool(raw) and value is None,
            "include_simulated": include_simulated,
            "checkpoints": explorer.CHECKPOINTS,
        }
    )
    if value is not None:
        result = explorer.scalability(study, value["id"], snapshot=snapshot, include_simulated=include_simulated)
        context.update({"result": result, "chart": charts.line_chart(result["points"])})
    return render(request, "graph/scalability.html", context)
