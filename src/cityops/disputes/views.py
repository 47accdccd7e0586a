"""The dispute pages: the centre's desk (walk-in registration), the list, a dispute's page (parties masked, its
timeline, the forms of exactly the actions the user may take now, the routing suggestion to confirm), the
mediator's queue, the operator's "turn this call into a dispute", and the resident's pages (apply, my disputes,
follow one). Reads through selectors, writes through services and the workflow's actions."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityops.accounts.models import OrgUnit
from cityops.cases.views import map_picker_config, page_window
from cityops.core import actions, roles
from cityops.core.errors import CityopsError
from cityops.core.scope import is_city_wide
from cityops.core.timeline import timeline_shown
from cityops.core.workflow import actor_roles
from cityops.disputes import forms, selectors, services
from cityops.disputes.models import Dispute

logger = logging.getLogger(__name__)

STAFF_ROLES = frozenset(roles.ALL_ROLES) - {roles.RESIDENT}
DESK_ROLES = frozenset({roles.CENTRE_STAFF, roles.ADMIN})
# Timeline entries that are no transition of the workflow.
EXTRA_ACTIONS = {"register": gettext_lazy("登记"), "raise_risk": gettext_lazy("上调风险等级"),
                 "sign": gettext_lazy("当事人签署协议"),
                 "overdue": gettext_lazy("超期"), "remind": gettext_lazy("催办"), "notice": gettext_lazy("通报")}
# What a resident reads of each state (follow my dispute).
RESIDENT_STEPS = {
    "registered": gettext_lazy("已收到您的申请，调处中心将在 3 个工作日内分流"),
    "accepted": gettext_lazy("已受理，正在安排调解员"),
    "assigned": gettext_lazy("已指派调解员，将与您联系"),
    "mediating": gettext_lazy("调解进行中"),
    "agreed": gettext_lazy("已达成调解协议"),
    "confirmation_requested": gettext_lazy("已向法院申请司法确认"),
    "confirmed": gettext_lazy("调解协议已经法院确认有效"),
    "not_confirmed": gettext_lazy("法院未予确认，将重新调解或告知其他途径"),
    "performed": gettext_lazy("协议已履行，将进行回访"),
    "closed": gettext_lazy("已结案"),
    "refused": gettext_lazy("因当事人拒绝调解，本次调解不再进行"),
    "terminated": gettext_lazy("调解已终止，将告知您其他解决途径"),
    "referred": gettext_lazy("已告知救济途径并移交"),
    "enforcement": gettext_lazy("已申请强制执行"),
    "escalated": gettext_lazy("已采取相应措施，工作人员将与您联系"),
}


def error_text(exc: CityopsError) -> str:
    return exc.message_en if (get_language() or "").startswith("en") else exc.message


def _is_resident_only(user) -> bool:
    return not (user.role_codes & STAFF_ROLES)


def _dispute_or_404(user, pk: int) -> Dispute:
    d = selectors.dispute_get(user=user, pk=pk)
    if d is None:
        raise Http404(_("纠纷不存在"))
    return d


def _suggestion(dispute: Dispute):
    """routing.suggest(dispute) when routing exists (another part of the app); None without it or when it fails —
    the staff then choose by hand."""
    try:
        from cityops.disputes import routing
    except ImportError:
        return None
    try:
        return routing.suggest(dispute)
    except Exception:  # a suggestion is a help: its failure must not take the page down
        logger.exception("routing.suggest failed for dispute %s", dispute.pk)
        return None


def _acts(dispute: Dispute, user, suggestion=None) -> list[dict]:
    out = []
    for t in actions.available_actions(dispute, user):
        initial = None
        if t.action == "accept" and suggestion is not None and suggestion.committee is not None:
            initial = {"channel": suggestion.channel, "committee_id": suggestion.committee.pk}
        elif t.action == "assign" and dispute.committee_id:
            mediator = _suggested_mediator(dispute)
            initial = {"mediator_id": mediator.pk} if mediator is not None else None
        out.append({"t": t, "form": forms.action_form(dispute, t, initial=initial),
                    "url": f"/disputes/{dispute.pk}/act/{t.action}/"})
    return out


def _suggested_mediator(dispute: Dispute):
    try:
        from cityops.disputes import routing

        return routing.suggest_mediator(dispute.committee, dispute)
    except Exception:  # routing absent or failing: no pre-selection
        return None


def _documents(dispute: Dispute, user) -> bool:
    """Whether the documents page (documents.py, another part of the app) is there for this user."""
    try:
        from cityops.disputes.documents import can_read_documents
    except ImportError:
        return False
    return can_read_documents(dispute=dispute, user=user)


def _unsigned(dispute: Dispute) -> bool:
    """Whether some party has not signed the agreement yet (judicial confirmation waits for every signature)."""
    from cityops.core.errors import CityopsError as Refused
    from cityops.disputes.guards import agreement_signed

    try:
        agreement_signed(dispute, None, {})
    except Refused:
        return True
    return False


def _may_raise_risk(dispute: Dispute, user) -> bool:
    open_ = not Dispute.workflow.states[dispute.state].terminal
    return open_ and dispute.risk_level != "high" and bool(actor_roles(user, dispute) & services.RISK_ROLES)


# --- staff pages ---------------------------------------------------------------------------------------------
@login_required
def dispute_list(request):
    """矛盾纠纷 list: state, traffic light, risk, committee and mediator by name; filters by state, risk, type."""
    if _is_resident_only(request.user):
        return redirect("/disputes/mine/")
    filters = {k: request.GET.get(k, "") for k in ("state", "risk_level", "kind", "source", "q")}
    if filters["state"] not in Dispute.workflow.states:
        filters["state"] = ""
    if filters["risk_level"] not in Dispute.Risk.values:
        filters["risk_level"] = ""
    if filters["kind"] not in Dispute.Kind.values:
        filters["kind"] = ""
    if filters["source"] not in Dispute.Source.values:
        filters["source"] = ""
    filters["q"] = filters["q"].replace("\x00", "")[:100]
    window = page_window(request, selectors.dispute_search(user=request.user, filters=filters))
    return render(request, "disputes/list.html", {
        "page": window, "rows": window.items, "filters": filters, "now": timezone.now(),
        "states": [(code, st.label) for code, st in Dispute.workflow.states.items()],
        "risks": Dispute.Risk.choices, "kinds": Dispute.Kind.choices,
        "desk": bool(request.user.role_codes & DESK_ROLES),
    })


@login_required
def queue(request):
    """调解员工作台: the disputes assigned to me, and my committee's that wait for a mediator."""
    if roles.MEDIATOR not in request.user.role_codes:
        raise PermissionDenied(_("只有调解员可以查看调解工作台"))
    window = page_window(request, selectors.mediator_queue(user=request.user))
    return render(request, "disputes/queue.html", {"page": window, "rows": window.items, "now": timezone.now()})


@login_required
def desk(request):
    """调处中心登记台: a walk-in (or a paper referral) registered with its parties; then the dispute's page offers
    the routing suggestion for the staff to confirm."""
    if not request.user.role_codes & DESK_ROLES:
        raise PermissionDenied(_("只有调处中心工作人员可以登记来访纠纷"))
    form = forms.DisputeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            d = services.register_dispute(actor=request.user, idempotency_key=request.POST.get("idem", ""),
                                          **form.intake())
        except CityopsError as exc:
            error = error_text(exc)
        else:
            messages.success(request, _("已登记纠纷 %(code)s，请确认分流") % {"code": d.code})
            return redirect(f"/disputes/{d.pk}/#actions")
    waiting = list(selectors.dispute_list(user=request.user).filter(state="registered").order_by("deadline_at")[:30])
    return render(request, "disputes/desk.html", {"form": form, "error": error, "rows": waiting, "page": None,
                                                  "map_config": _picker_config(request.user)})


def _picker_config(user) -> dict:
    """The case intake's map picker for the desk: a picked point is located and shown by its regions' names; one
    outside the city, or outside the regions of the user's centre (and their own regions), is refused on the page.
    A city-wide user, or a centre without a region, may pick anywhere in the city."""
    from cityops.geo.models import Region

    codes: list[str] = []
    if not is_city_wide(user):
        centres = OrgUnit.objects.filter(pk__in=user.org_unit_ids, kind=OrgUnit.Kind.CENTRE, active=True)
        centre_codes = [c.region_code or "" for c in centres]
        if "" not in centre_codes:
            codes = sorted({*centre_codes, *(c for c in user.region_codes or [] if c)})
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    area = [{"code": code, "name": names.get(code, code)} for code in codes]
    return map_picker_config(locate_point="/api/v1/geo/locate", area=area)


@login_required
def detail(request, pk: int):
    user = request.user
    d = _dispute_or_404(user, pk)
    if _is_resident_only(user):
        return _track(request, d)
    suggestion = _suggestion(d) if d.state == "registered" else None
    acts = _acts(d, user, suggestion)
    return render(request, "disputes/detail.html", {
        "d": d, "parties": list(d.parties.all()), "agreement": getattr(d, "agreement", None)
        if hasattr(d, "agreement") else None,
        "timeline": timeline_shown(d, extra_actions=EXTRA_ACTIONS), "acts": acts,
        "suggestion": suggestion if any(a["t"].action == "accept" for a in acts) else None,
        "risk_form": forms.RiskForm(auto_id="risk-%s") if _may_raise_risk(d, user) else None,
        "now": timezone.now(), "en": (get_language() or "").startswith("en"), "documents": _documents(d, user),
        "unsigned": d.state == "agreed" and _unsigned(d),
    })


@login_required
@require_POST
def act(request, pk: int, action: str):
    d = _dispute_or_404(request.user, pk)
    if action not in {t.action for t in actions.person_actions(Dispute.workflow)}:
        raise Http404(action)
    t = actions.find_action(Dispute, action)
    form = forms.action_form(d, t, request.POST)
    if not form.is_valid():
        messages.error(request, actions.form_problems(form))
    else:
        try:
            actions.run_action(d, action, request.user, form.cleaned_data)
            messages.success(request, _("「%(action)s」已完成") % {"action": t.label})
        except CityopsError as exc:
            messages.error(request, error_text(exc))
    return redirect(f"/disputes/{pk}/")


@login_required
@require_POST
def raise_risk(request, pk: int):
    d = _dispute_or_404(request.user, pk)
    form = forms.RiskForm(request.POST)
    if not form.is_valid():
        messages.error(request, actions.form_problems(form))
    else:
        try:
            services.raise_risk(d, request.user, form.cleaned_data["level"], form.cleaned_data["reason"])
            messages.success(request, _("风险等级已上调"))
        except CityopsError as exc:
            messages.error(request, error_text(exc))
    return redirect(f"/disputes/{pk}/")


@login_required
def from_case(request, code: str):
    """热线转纠纷: an operator turns a call's work order (or any city case) into a dispute."""
    from cityops.cases.selectors import case_get
    from cityops.core.errors import NotFound

    if not request.user.role_codes & services.CASE_LINK_ROLES:
        raise PermissionDenied(_("只有受理员和调处中心工作人员可以将案件转为纠纷"))
    try:
        case = case_get(user=request.user, code=code[:40])
    except NotFound as exc:
        raise Http404(error_text(exc)) from exc
    existing = list(selectors.case_disputes(case=case, user=request.user))
    initial = {"title": (case.category.name if case.category_id else "")[:200], "description": case.description}
    form = forms.DisputeForm(request.POST or None, source_choices=False, located=False, initial=initial)
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.intake()
        try:
            d = services.dispute_from_case(actor=request.user, case=case, kind=data["kind"], parties=data["parties"],
                                           title=data["title"], description=data["description"],
                                           amount=data["amount"], risk_level=data["risk_level"],
                                           idempotency_key=request.POST.get("idem", ""))
        except CityopsError as exc:
            error = error_text(exc)
        else:
            messages.success(request, _("已转为矛盾纠纷 %(code)s") % {"code": d.code})
            return redirect(f"/disputes/{d.pk}/")
    return render(request, "disputes/from_case.html", {"case": case, "form": form, "error": error,
                                                       "existing": existing})


# --- the resident's pages --------------------------------------------------------------------------------------
@login_required
def apply(request):
    """申请调解 (portal): a resident applies for mediation of their own dispute."""
    if roles.RESIDENT not in request.user.role_codes:
        raise PermissionDenied(_("请使用市民账号申请调解"))
    form = forms.ApplyForm(request.POST or None, initial={"a_name": request.user.first_name,
                                                          "a_phone": getattr(request.user, "phone", "")})
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            d = services.register_dispute(actor=request.user, source="portal",
                                          idempotency_key=request.POST.get("idem", ""), **form.intake())
        except CityopsError as exc:
            error = error_text(exc)
        else:
            messages.success(request, _("申请已提交，编号 %(code)s") % {"code": d.code})
            return redirect(f"/disputes/{d.pk}/")
    return render(request, "disputes/apply.html", {"form": form, "error": error})


@login_required
def mine(request):
    """我的纠纷: a resident's own disputes (as applicant or party) — nobody else's."""
    window = page_window(request, selectors.own_disputes(user=request.user))
    return render(request, "disputes/mine.html", {"page": window, "rows": window.items,
                                                  "steps": RESIDENT_STEPS})


def _track(request, d: Dispute):
    """Follow my dispute: where it is, who mediates it, by when; the steps as a resident reads them."""
    shown = [e for e in timeline_shown(d, extra_actions=EXTRA_ACTIONS) if e["state"]]
    return render(request, "disputes/track.html", {
        "d": d, "status_text": RESIDENT_STEPS.get(d.state, d.state_label()), "steps": shown,
        "parties": list(d.parties.all()), "documents": _documents(d, request.user),
    })
