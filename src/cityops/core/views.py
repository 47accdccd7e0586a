from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from cityops.core import edge, notify, roles
from cityops.core import home as home_module
from cityops.core.errors import Forbidden
from cityops.core.selectors import notification_list, unread_count


@login_required
def home(request):
    """工作台: the cards of the user's work with what waits there, and the city's figures of today for those who
    watch them, both contributed by the apps (core.home); a user whose home is elsewhere (a resident: the portal)
    goes there."""
    elsewhere = home_module.home_elsewhere(request.user)
    if elsewhere:
        return redirect(elsewhere)
    cards = home_module.home_cards(request.user)
    figures = home_module.home_figures(request.user)
    role_names = [roles.ROLE_LABELS[c] for c in roles.ALL_ROLES if c in request.user.role_codes]
    unread = unread_count(user=request.user)
    return render(request, "core/home.html", {
        "cards": cards, "figures": figures, "role_names": role_names, "unread": unread,
    })


@login_required
def inbox(request):
    """The user's notifications, newest first: unread ones marked, each with its body; one or all can be marked
    read (the counter in the menu goes down with them)."""
    page = Paginator(notification_list(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "core/inbox.html", {"page": page, "unread": unread_count(user=request.user)})


@login_required
@require_POST
def inbox_read(request, pk: int | None = None):
    """标为已读: one notification (pk) or all. With htmx the row (or the list) comes back with the menu's counter
    out of band; without, back to the inbox."""
    notify.mark_read(user=request.user, pk=pk)
    if not request.htmx:
        return redirect("core:inbox")
    unread = unread_count(user=request.user)
    if pk is None:
        page = Paginator(notification_list(user=request.user), 30).get_page(request.GET.get("page"))
        return render(request, "core/_inbox_list.html", {"page": page, "unread": unread, "oob": True})
    note = notification_list(user=request.user).filter(pk=pk).first()
    if note is None:
        raise Http404("notification")
    return render(request, "core/_inbox_row.html", {"n": note, "unread": unread, "oob": True})


@login_required
def inbox_open(request, pk: int):
    """Follow a notification's link: it is read now."""
    note = notification_list(user=request.user).filter(pk=pk).first()
    if note is None:
        raise Http404("notification")
    notify.mark_read(user=request.user, pk=pk)
    target = note.url if note.url and url_has_allowed_host_and_scheme(note.url, allowed_hosts=None) else "/inbox/"
    return redirect(target)


# --- Error answers: Django's handlers and the CSRF failure view, all through the edge (core/edge.py) --------
def bad_request(request, exception=None):
    return edge.error_response(request, edge.status_error(400))


def permission_denied(request, exception=None):
    return edge.error_response(request, edge.status_error(403))


def page_not_found(request, exception=None):
    return edge.error_response(request, edge.status_error(404))


def server_error(request):
    return edge.error_response(request, edge.status_error(500))


def csrf_failure(request, reason=""):
    return edge.error_response(
        request,
        Forbidden(
            "安全校验（CSRF）失败：请刷新页面后重试",
            "Security check (CSRF) failed: reload the page and try again",
            code="csrf_failed",
        ),
    )
