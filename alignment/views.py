"""The playground's pages: coordinators converse (and anyone, when the
study's moral graph is public); auditors read every conversation; a share
link shows one conversation read-only to whoever has it."""

from __future__ import annotations

import json

from django import forms
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from alignment import playground, selectors
from graph import explorer
from graph import selectors as graph_selectors
from graph.models import GraphSnapshot
from mgeplatform.llm import gateway
from studies.models import Study


class StartForm(forms.Form):
    snapshot = forms.ModelChoiceField(
        queryset=GraphSnapshot.objects.none(),
        required=False,
        empty_label="The latest moral graph",
        help_text="The moral graph whose winning values guide the replies.",
    )
    constitution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=20_000,
        help_text="Optional: principles for the constitution column, one per line.",
    )

    def __init__(self, study, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["snapshot"].queryset = selectors.snapshots_of(study)
        self.fields["snapshot"].label_from_instance = lambda s: f"Snapshot {s.pk} ({s.created_at:%Y-%m-%d %H:%M})"


class TurnForm(forms.Form):
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=playground.MAX_MESSAGE, label="Your message"
    )


def _access(request, study):
    """("staff" | "public" | None, may converse?)."""
    access = explorer.access(request.user, study)
    if access == "staff":
        return access, request.user.has_perm("alignment.add_playgroundconversation")
    return access, access == "public"


def _denied(request, study):
    return render(
        request,
        "alignment/playground/denied.html",
        {"study": study, "login_url": f"{reverse('account_login')}?next={request.path}"},
        status=403,
    )


def _mine(request, study):
    """The conversations this visitor may open: all of the study's for staff,
    their own (by account or by session) otherwise."""
    conversations = selectors.conversations_of(study)
    if explorer.is_graph_staff(request.user):
        return conversations
    if request.user.is_authenticated:
        return conversations.filter(created_by=request.user)
    key = request.session.session_key
    return conversations.filter(session_key=key) if key else conversations.none()


def _provenance(turns, staff: bool, study, snapshot_id):
    """Links from each context and value card to where it comes from: the
    admin's pages for staff, the public winners page otherwise."""
    winners_url = reverse("graph:winners", args=[study.slug]) + (f"?snapshot={snapshot_id}" if snapshot_id else "")
    snapshot = selectors.snapshot_or_none(snapshot_id) if staff and snapshot_id else None
    for turn in turns:
        for c in turn.contexts:
            c["url"] = reverse("admin:graph_moralcontext_change", args=[c["id"]]) if staff else winners_url
        for v in turn.values:
            v["url"] = reverse("admin:values_canonicalvalue_change", args=[v["id"]]) if staff else winners_url
            v["edge_url"] = None
            if snapshot is not None:  # the kept edge into the winner in this context: the stories behind it
                edge = next(
                    (
                        e
                        for e in snapshot.edges or []
                        if e.get("kept") and e.get("target") == v["id"] and v["context"] in e.get("contexts", [])
                    ),
                    None,
                )
                if edge:
                    v["edge_url"] = reverse("admin:graph_transitionstory_edge", args=[edge["source"], edge["target"]])
    return turns


def _refusal(request, study, access, conversation=None) -> str:
    """Why this visitor may not send a message now ("" when they may):
    public visitors are capped and stop when the study's budget is spent."""
    if access != "public":
        return ""
    return playground.public_refusal(study, _mine(request, study), conversation)


def _refused(request, context: dict, template: str, refusal: str):
    status = 403 if refusal == playground.BUDGET_SPENT else 429
    return render(request, template, {**context, "refusal": refusal}, status=status)


def _conversation_page(request, conversation, *, staff, can_write, shared, form=None, refusal="", status=200):
    turns = _provenance(list(conversation.turns.all()), staff, conversation.study, conversation.snapshot_id)
    share_url = request.build_absolute_uri(reverse("alignment:playground_shared", args=[conversation.share_token]))
    export_url = (
        reverse("alignment:playground_shared_export", args=[conversation.share_token])
        if shared
        else reverse("alignment:playground_export", args=[conversation.study.slug, conversation.pk])
    )
    return render(
        request,
        "alignment/playground/conversation.html",
        {
            "study": conversation.study,
            "conversation": conversation,
            "turns": turns,
            "staff": staff,
            "can_write": can_write and not shared,
            "shared": shared,
            "form": form or TurnForm(),
            "share_url": None if shared else share_url,
            "export_url": export_url,
            "winners_url": reverse("graph:winners", args=[conversation.study.slug]),
            "refusal": refusal,
            "offline": gateway.resolve(conversation.study).offline,
            "lineage": graph_selectors.lineage(conversation.snapshot) if conversation.snapshot_id else None,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def playground_index(request, slug: str):
    study = get_object_or_404(Study, slug=slug)
    access, can_write = _access(request, study)
    if access is None:
        return _denied(request, study)
    form = StartForm(study, request.POST or None)
    refusal = _refusal(request, study, access) if can_write else ""
    context = {
        "study": study,
        "form": form,
        "can_write": can_write,
        "staff": access == "staff",
        "conversations": _mine(request, study).prefetch_related("turns")[:50],
        "has_graph": selectors.snapshots_of(study).exists(),
        "refusal": refusal,
        "offline": gateway.resolve(study).offline,
    }
    if request.method == "POST":
        if not can_write:
            return HttpResponseForbidden("You may read conversations here, not start them.")
        if refusal:
            return _refused(request, context, "alignment/playground/index.html", refusal)
        if form.is_valid():
            if not request.session.session_key:
                request.session.save()
            conversation = playground.start(
                study,
                snapshot=form.cleaned_data["snapshot"],
                constitution=form.cleaned_data["constitution"],
                user=request.user,
                session_key="" if request.user.is_authenticated else request.session.session_key,
            )
            return redirect("alignment:playground_conversation", slug=study.slug, pk=conversation.pk)
    return render(request, "alignment/playground/index.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def playground_conversation(request, slug: str, pk: int):
    study = get_object_or_404(Study, slug=slug)
    access, can_write = _access(request, study)
    if access is None:
        return _denied(request, study)
    conversation = get_object_or_404(_mine(request, study), pk=pk)
    form = None
    refusal = _refusal(request, study, access, conversation) if can_write else ""
    if request.method == "POST":
        if not can_write:
            return HttpResponseForbidden("You may read this conversation, not add to it.")
        if refusal:
            return _conversation_page(
                request,
                conversation,
                staff=False,
                can_write=can_write,
                shared=False,
                refusal=refusal,
                status=403 if refusal == playground.BUDGET_SPENT else 429,
            )
        form = TurnForm(request.POST)
        if form.is_valid():
            playground.add_turn(
                conversation, form.cleaned_data["message"], user=request.user, public=access == "public"
            )
            return redirect(reverse("alignment:playground_conversation", args=[study.slug, pk]) + "#latest")
    return _conversation_page(
        request, conversation, staff=access == "staff", can_write=can_write, shared=False, form=form, refusal=refusal
    )


def _json(conversation):
    response = HttpResponse(
        json.dumps(playground.export(conversation), ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="playground-{conversation.pk}.json"'
    return response


@require_safe
def playground_export(request, slug: str, pk: int):
    study = get_object_or_404(Study, slug=slug)
    access, _ = _access(request, study)
    if access is None:
        return _denied(request, study)
    return _json(get_object_or_404(_mine(request, study), pk=pk))


def _shared(token):
    conversation = selectors.shared_conversation(token)
    if conversation is None or len(token) < 20:
        raise Http404("No such conversation.")
    return conversation


@require_safe
def playground_shared(request, token: str):
    """Read-only, for whoever has the link; provenance links go to the public winners page."""
    return _conversation_page(request, _shared(token), staff=False, can_write=False, shared=True)


@require_safe
def playground_shared_export(request, token: str):
    return _json(_shared(token))
