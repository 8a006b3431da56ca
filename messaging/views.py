"""The messaging pages: the inbox and sent box, a thread with its actions (reply, forward,
handled, unread, assign), attachments, and writing a new message.

Each view parses input, calls one selector or service and renders: who may see or write what,
and the access log, live in ``messaging.selectors`` and ``messaging.services``. The thread's
actions are plain form posts that redirect back (or show the page again with the errors, status
400); ``hx-boost`` turns them into in-page requests where JavaScript runs.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citizens import selectors as citizen_selectors
from citizens.access import Actor, actor_from_request
from citizens.choices import AccessAction
from citizens.models import Citizen
from sectors.models import User
from sectors.selectors import organisation_members
from smartcare.forms import apply_service_errors
from smartcare.pagination import CappedPaginator
from smartcare.uploads import large_body

from . import checks, selectors, services
from . import kept as kept_uploads
from .choices import MessageType
from .followup import hospital_followups_attach
from .forms import (
    AssignForm,
    CitizenSearchForm,
    ComposeForm,
    ForwardForm,
    HandledForm,
    InboxFilterForm,
    ReplyForm,
)
from .models import Message

PAGE_SIZE = 25
RECEIVER_SEARCH_LIMIT = 10
PREFIX_PATTERN = re.compile(r"^[a-z0-9-]{1,60}$")


def _apply_errors(exc: ValidationError, form) -> None:
    """The citizen is chosen apart from the form's fields: its errors go at the top."""
    apply_service_errors(exc, form, aliases={"citizen": None})


def _read(form, *names: str) -> dict:
    """The fields of ``names`` the form could read (all of them once it is valid)."""
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- inbox and sent box ------------------------------------------------------------------------


@login_required
@require_GET
def inbox(request):
    actor = actor_from_request(request)
    box = "sent" if request.GET.get("box") == "sent" else "inbox"
    form = InboxFilterForm(request.GET)
    filters = form.filters()
    if box == "sent":
        rows = selectors.sent_box(actor=actor, filters=filters or {})
    else:
        rows = selectors.inbox(actor=actor, filters=filters or {})
    if filters is None:  # the form shows what is wrong
        rows, filters = rows.none(), {}
    page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))  # counts at most LIST_COUNT_CAP + 1
    shown = list(page.object_list)
    citizens = [row.citizen if box == "sent" else row.message.citizen for row in shown]
    if box == "inbox":
        hospital_followups_attach(row.message for row in shown)
    selectors.log_listed(actor=actor, citizens=citizens, detail="sent messages" if box == "sent" else "inbox")
    context = {
        "box": box,
        "form": form,
        "page": page,
        "rows": shown,
        "query": _query_without_page(request),
        "filtered": any(name != "citizen" for name in filters),
        # The citizen filter is set from a row; its name comes from the rows shown (no extra read).
        "filter_citizen": citizens[0] if filters.get("citizen") and citizens else None,
        "citizen_filter_empty": bool(filters.get("citizen")) and not citizens,
    }
    return render(request, "messaging/inbox.html", context)


# --- a thread ----------------------------------------------------------------------------------


def _members(actor: Actor):
    return User.objects.filter(pk__in=organisation_members(organisation=actor.organisation).values("user_id"))


def _render_thread(request, actor: Actor, pk, *, failed: tuple | None = None, status: int = 200):
    """The thread, every message this organisation sent or received in order; the ones it
    received are read by the user from now on. ``failed`` is (message id, action, bound form)
    of a post that did not go through, shown again with its errors."""
    thread = selectors.thread_get(actor=actor, pk=pk)
    items = list(selectors.thread_messages(actor=actor, thread=thread))
    services.messages_mark_read(actor=actor, messages=items)
    hospital_followups_attach(items)
    org_id = actor.organisation.pk
    for message in items:
        recipients = list(message.recipients.all())
        message.own = next((r for r in recipients if r.organisation_id == org_id and r.received_at), None)
        message.sent_by_us = message.sender_id == org_id
        message.receivers = recipients
        message.may_reply = message.own is not None and message.type in (
            MessageType.CARE_COMMUNICATION,
            MessageType.HOSPITAL_NOTIFICATION,
        )
        message.may_forward = message.type == MessageType.CARE_COMMUNICATION
        message.reply_form = ReplyForm(auto_id=f"id_reply_{message.pk}_%s")
        message.forward_form = ForwardForm(auto_id=f"id_forward_{message.pk}_%s")
        message.assign_form = None
        message.failed_action = ""
        if failed and failed[0] == message.pk:
            message.failed_action = failed[1]
            setattr(message, f"{failed[1]}_form", failed[2])
            offered = {"reply": message.may_reply, "forward": message.may_forward, "assign": message.own is not None}
            if offered.get(failed[1]):
                failed = None  # shown with the message's own form
    members = []
    if any(message.own for message in items):
        members = [(user.pk, user.get_full_name() or user.email) for user in _members(actor).order_by(
            "first_name", "last_name", "email"
        )]  # fmt: skip
    context = {
        "thread": thread,
        # A hospital notification's thread has no category or topic: its first message names it.
        "title": thread.topic or thread.get_category_display() or (str(items[0]) if items else _("Message")),
        "citizen": thread.citizen,
        "items": items,
        "members": members,
        # A post that this page offers no form for (or about a message not shown): errors on top.
        "failed_elsewhere": failed[2] if failed else None,
    }
    response = render(request, "messaging/thread.html", context, status=status)
    if request.htmx and status != 200:  # a boosted post: the address bar shows the thread, not the post's URL
        response["HX-Push-Url"] = reverse("messaging:thread", args=[thread.pk])
    return response


@login_required
@require_GET
def thread(request, pk):
    return _render_thread(request, actor_from_request(request), pk)


def _send_keeping_files(request, form, send, check):
    """``send(files)``, the service call, with the files kept from an earlier attempt and the
    new ones, once the form is valid; while it is not, ``check(files)`` raises what the
    service's checks find in the fields that were read, so every error shows at once. Answers
    the service's result, or None after an error: the new files of an allowed type are then
    kept (``form.kept`` lists them all for the page)."""
    kept = kept_uploads.uploads_kept(user=request.user, tokens=request.POST.getlist("kept"))
    valid = form.is_valid()
    new = form.cleaned_data.get("attachments") or []  # read before an error on the field drops them
    files = kept_uploads.kept_files(kept)
    try:
        result = (send if valid else check)([*files, *new])
    except ValidationError as exc:
        _apply_errors(exc, form)
    else:
        if valid:
            kept_uploads.uploads_discard(kept, files)
            return result
    for opened in files:
        opened.close()
    new, errors = kept_uploads.uploads_keep(user=request.user, files=new)
    if errors and not form.has_error("attachments"):
        form.add_error("attachments", errors)
    form.kept = [*kept, *new]
    return None


def _back_to(message: Message, anchor: Message | None = None) -> str:
    return reverse("messaging:thread", args=[message.thread_id]) + f"#message-{(anchor or message).pk}"


@large_body  # a message with its attachments
@login_required
@require_POST
def reply(request, pk):
    actor = actor_from_request(request)
    message = selectors.message_get(actor=actor, pk=pk)
    form = ReplyForm(request.POST, request.FILES, auto_id=f"id_reply_{message.pk}_%s")
    answer = _send_keeping_files(
        request,
        form,
        lambda files: services.message_reply(
            actor=actor, message=message, text=form.cleaned_data["text"], attachments=files
        ),
        lambda files: checks.check(checks.reply_errors(message, **_read(form, "text"), attachments=files)),
    )
    if answer is not None:
        messages.success(request, _("Your reply has been sent."))
        return redirect(_back_to(message, answer))
    return _render_thread(request, actor, message.thread_id, failed=(message.pk, "reply", form), status=400)


@login_required
@require_POST
def forward(request, pk):
    actor = actor_from_request(request)
    message = selectors.message_get(actor=actor, pk=pk)
    form = ForwardForm(request.POST, auto_id=f"id_forward_{message.pk}_%s")
    if not form.is_valid():
        errors = checks.forward_errors(
            message, receiver=form.cleaned_data["receiver_organisation"], cc=form.cleaned_data["cc_organisations"]
        )
        if errors:
            _apply_errors(ValidationError(errors), form)
    else:
        try:
            forwarded = services.message_forward(
                actor=actor,
                message=message,
                receiver=form.cleaned_data["receiver_organisation"],
                cc=form.cleaned_data["cc_organisations"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as exc:
            _apply_errors(exc, form)
        else:
            messages.success(
                request,
                _("The message has been forwarded to %(org)s.") % {"org": form.cleaned_data["receiver_organisation"]},
            )
            return redirect(_back_to(message, forwarded))
    return _render_thread(request, actor, message.thread_id, failed=(message.pk, "forward", form), status=400)


@login_required
@require_POST
def mark_handled(request, pk):
    actor = actor_from_request(request)
    message = selectors.message_get(actor=actor, pk=pk, action=AccessAction.UPDATE)
    form = HandledForm(request.POST)
    form.is_valid()  # a check box: absent or unreadable is "not handled"
    handled = bool(form.cleaned_data.get("handled"))
    services.message_mark_handled(actor=actor, message=message, handled=handled)
    messages.success(request, _("Marked as handled.") if handled else _("Marked as not handled."))
    return redirect(_back_to(message))


@login_required
@require_POST
def mark_unread(request, pk):
    """Back to the inbox: opening the thread again would read the message again."""
    actor = actor_from_request(request)
    message = selectors.message_get(actor=actor, pk=pk, action=AccessAction.UPDATE)
    services.message_mark_read(actor=actor, message=message, read=False)
    messages.success(request, _("Marked as unread."))
    return redirect("messaging:inbox")


@login_required
@require_POST
def assign(request, pk):
    actor = actor_from_request(request)
    message = selectors.message_get(actor=actor, pk=pk, action=AccessAction.UPDATE)
    form = AssignForm(request.POST, members=_members(actor))
    if form.is_valid():
        try:
            recipient = services.message_assign(actor=actor, message=message, user=form.cleaned_data["assigned_to"])
        except ValidationError as exc:
            _apply_errors(exc, form)
        else:
            if recipient.assigned_to:
                text = _("Assigned to %(name)s.") % {
                    "name": recipient.assigned_to.get_full_name() or recipient.assigned_to.email
                }
            else:
                text = _("Nobody is assigned any more.")
            messages.success(request, text)
            return redirect(_back_to(message))
    return _render_thread(request, actor, message.thread_id, failed=(message.pk, "assign", form), status=400)


@login_required
@require_GET
def attachment(request, message_pk, pk: int):
    """Only for an organisation that sent or received the message (404 otherwise, like a missing
    file). Always a download with the type read from the content when it was uploaded."""
    actor = actor_from_request(request)
    message = selectors.message_get(actor=actor, pk=message_pk)
    found = next((a for a in message.attachments.all() if a.pk == pk), None)
    if found is None:
        raise Http404
    try:
        handle = found.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, filename=found.filename, content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- writing a new message ---------------------------------------------------------------------


def _suggested_receivers(actor: Actor, citizen: Citizen) -> list:
    """The organisations that care for the citizen now: the usual receivers."""
    stay = citizen.current_stay
    found, seen = [], {actor.organisation.pk}
    for organisation in (citizen.municipality, citizen.gp_clinic, stay.department if stay else None):
        if organisation is not None and organisation.pk not in seen and organisation.is_active:
            seen.add(organisation.pk)
            found.append(organisation)
    return found


def _render_compose(request, actor: Actor, *, citizen=None, form=None, hits=None, search=None, status=200, error=""):
    context = {
        "error": error,
        "citizen": citizen,
        "form": form,
        "hits": hits,
        "search": search or CitizenSearchForm(),
        "suggestions": _suggested_receivers(actor, citizen) if citizen else [],
        "chosen_cc": {str(v) for v in request.POST.getlist("cc")} if request.method == "POST" else set(),
    }
    return render(request, "messaging/compose.html", context, status=status)


@large_body  # a message with its attachments
@login_required
@require_http_methods(["GET", "POST"])
def compose(request):
    actor = actor_from_request(request)
    if request.method == "GET":
        if request.GET.get("citizen"):
            citizen = citizen_selectors.citizen_get(actor=actor, pk=request.GET["citizen"], detail="new message")
            return _render_compose(request, actor, citizen=citizen, form=ComposeForm(initial={"citizen": citizen.pk}))
        search = CitizenSearchForm(request.GET)
        query = search.cleaned_data["q"].strip() if search.is_valid() else ""
        hits = citizen_selectors.citizen_search(actor=actor, query=query) if query else None
        return _render_compose(request, actor, hits=hits, search=search)
    form = ComposeForm(request.POST, request.FILES)
    if not form.is_valid() and form.has_error("citizen"):
        return _render_compose(request, actor, status=400, error=_("Choose the citizen the message is about."))
    citizen = citizen_selectors.citizen_get(
        actor=actor, pk=form.cleaned_data["citizen"], detail="new message", action=AccessAction.UPDATE
    )
    data = form.cleaned_data
    content = _read(form, "category", "topic", "priority", "text")
    receivers = {"receiver": data["receiver_organisation"], "cc": data["cc_organisations"]}
    message = _send_keeping_files(
        request,
        form,
        lambda files: services.message_send(actor=actor, citizen=citizen, **receivers, **content, attachments=files),
        lambda files: checks.check(checks.send_errors(citizen, **receivers, **content, attachments=files)),
    )
    if message is not None:
        messages.success(request, _("Your message has been sent."))
        return redirect("messaging:thread", pk=message.thread_id)
    return _render_compose(request, actor, citizen=citizen, form=form, status=400)


@login_required
@require_GET
def receivers(request):
    """Receivers by name, SOR code or GLN for the compose and forward forms (htmx); organisations
    are no health data. Whether one may receive a message about the citizen is checked on send."""
    query = (request.GET.get("receiver_query") or request.GET.get("q") or "").strip()[:100]
    prefix = request.GET.get("prefix") or "receiver"
    if not PREFIX_PATTERN.match(prefix):
        prefix = "receiver"
    sender = getattr(request.acting, "organisation", None)
    hits = selectors.receiver_search(query=query, limit=RECEIVER_SEARCH_LIMIT, sender=sender) if len(query) >= 2 else []
    return render(request, "messaging/_receiver_results.html", {"hits": hits, "query": query, "prefix": prefix})
