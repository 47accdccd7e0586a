"""Pages of the stability assessment: the assessing staff's and leaders' list and decision page (state, deadline,
register, consultation, monitoring, timeline, the forms of exactly the actions the user may take now), and the
public consultation page (no login to read; a signed-in resident comments). Views are thin: the services write,
the selectors read in the user's scope."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cityops.accounts.models import OrgUnit
from cityops.core import actions
from cityops.core.errors import CityopsError, InvalidInput
from cityops.core.timeline import timeline_shown
from cityops.stability import forms, selectors, services
from cityops.stability import workflow as flow
from cityops.stability.models import Comment

# The timeline's steps that are no transition, by name.
EXTRA_ACTIONS = {"create": gettext_lazy("登记"), "risk_add": gettext_lazy("登记风险点"),
                 "risk_update": gettext_lazy("修改风险点"), "comment": gettext_lazy("收到公众意见"),
                 "comment_moderate": gettext_lazy("审核意见"), "visit": gettext_lazy("走访"), "hearing": gettext_lazy("听证")}


def _load(user, pk):
    decision = selectors.decision_get(user=user, pk=pk)
    if decision is None:
        raise Http404("decision")
    return decision


def _done(request, exc: CityopsError | None = None, ok: str = ""):
    if exc is not None:
        messages.error(request, exc.message if request.LANGUAGE_CODE.startswith("zh") else exc.message_en)
    elif ok:
        messages.success(request, ok)


def _checked(form):
    if not form.is_valid():
        problems = actions.form_problems(form)
        raise InvalidInput(problems, problems)
    return form.cleaned_data


@login_required
def decision_list(request):
    qs = selectors.decision_list(user=request.user)
    state = request.GET.get("state", "")
    if state in flow.DECISION_WORKFLOW.states:
        qs = qs.filter(state=state)
    page = Paginator(qs.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    shown = selectors.regions_shown(page)
    rows = [(d, shown.get(d.pk, "")) for d in page]
    states = [(code, s.label) for code, s in flow.DECISION_WORKFLOW.states.items()]
    return render(request, "stability/list.html", {"page": page, "rows": rows, "states": states, "state": state,
                                                   "may_register": bool(_my_units(request.user)) or request.user.is_superuser})


def _my_units(user):
    if not (user.role_codes & flow.UNIT_STAFF_ROLES):
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(pk__in=list(user.org_unit_ids), active=True).order_by("code")


def _decision_form(request, data=None):
    my_units = OrgUnit.objects.filter(active=True) if request.user.is_superuser or "admin" in request.user.role_codes \
        else _my_units(request.user)
    units = OrgUnit.objects.filter(active=True).exclude(kind__in=("company",)).order_by("kind", "code")
    return forms.DecisionForm(data, units=units, my_units=my_units.order_by("code"),
                              regions=selectors.area_choices(request.user))


@login_required
def decision_new(request):
    form = _decision_form(request, request.POST or None)
    if request.method == "POST":
        try:
            decision = services.decision_create(actor=request.user, **_checked(form))
            _done(request, ok=_("已登记"))
            return redirect(f"/stability/{decision.pk}/")
        except CityopsError as exc:
            _done(request, exc)
    return render(request, "stability/new.html", {"form": form})


@login_required
def decision_page(request, pk):
    decision = _load(request.user, pk)
    staff = selectors.is_staff_reader(decision, request.user)
    assessor = services.may_assess(decision, request.user)
    acts = [{"t": t, "form": actions.action_form(decision, t), "url": f"/stability/{pk}/act/{t.action}/"}
            for t in actions.available_actions(decision, request.user)]
    risks = list(decision.risks.select_related("owner_unit"))
    comments = selectors.comment_list(decision=decision, user=request.user)
    context = {
        "d": decision, "acts": acts, "staff": staff, "assessor": assessor, "risks": risks,
        "risk_rows": [(r, forms.RiskUpdateForm(initial={"mitigation": r.mitigation, "status": r.status},
                                               auto_id=f"risk{r.pk}-%s")) for r in risks],
        "region_name": selectors.regions_shown([decision])[decision.pk],
        "counts": selectors.stance_counts(decision=decision),
        "pending": [c for c in comments if c.status == Comment.Status.PENDING] if assessor else [],
        "comments": [c for c in comments if c.status != Comment.Status.PENDING or not assessor][:200],
        "visits": decision.visits.all() if staff else [], "hearings": decision.hearings.all() if staff else [],
        "unmitigated": decision.unmitigated_risks(),
        "timeline": timeline_shown(decision, extra_actions=EXTRA_ACTIONS) if staff else [],
        "risk_form": forms.RiskForm(auto_id="risk-%s") if assessor and decision.state in services.RISK_ADD_STATES else None,
        "risk_editable": assessor and decision.state in services.RISK_UPDATE_STATES,
        "visit_form": forms.VisitForm(auto_id="visit-%s") if assessor and decision.state in ("risks_identified",
                                                                                             "consultation") else None,
        "hearing_form": forms.HearingForm(auto_id="hearing-%s") if assessor and decision.in_consultation else None,
    }
    context["map_config"] = _map_config(decision, points=staff and decision.published_at is not None)
    if decision.published_at:
        # The weekly counts are for every reader of a published decision; the cases and disputes themselves (what
        # happened where, to whom) only for the file's staff, like the dots on the map.
        context["weeks"] = selectors.weekly_counts(decision=decision)
        context["with_disputes"] = selectors.dispute_model() is not None
        if staff:
            context["cases"] = selectors.linked_cases(decision=decision)[:50]
            context["disputes"] = selectors.linked_disputes(decision=decision)
    return render(request, "stability/detail.html", context)


MAP_COLOURS = {"area": "#d1242f", "case": "#0969da", "dispute": "#8250df"}


def _map_config(decision, *, points: bool) -> dict | None:
    """The area map's data (stability/area_map.js): the area (the decision's polygon, else its region's outline)
    and, on the staff's page once published, the linked cases and disputes as dots. None: nothing to draw."""
    area = selectors.area_geojson(decision)
    if area is None:
        return None
    config = {"area": area, "own_polygon": bool(decision.area), "colours": MAP_COLOURS, "points": [], "legend": [
        {"colour": MAP_COLOURS["area"], "label": _("划定的影响范围") if decision.area else _("所在区域")}]}
    if points:
        config["points"] = selectors.map_points(decision=decision)
        config["legend"] += [{"colour": MAP_COLOURS["case"], "label": _("城市案件")},
                             {"colour": MAP_COLOURS["dispute"], "label": _("矛盾纠纷")}]
    return config


@login_required
@require_POST
def decision_action(request, pk, action):
    decision = _load(request.user, pk)
    try:
        t = actions.find_action(type(decision), action)
        actions.run_action(decision, action, request.user, _checked(actions.action_form(decision, t, request.POST)))
        _done(request, ok=str(t.label))
    except CityopsError as exc:
        _done(request, exc)
    return redirect(f"/stability/{pk}/")


def _post(service, form_cls, ok):
    """A page's POST that checks a form and calls one service with the decision; back to the decision page."""

    @login_required
    @require_POST
    def view(request, pk, **kw):
        decision = _load(request.user, pk)
        try:
            service(request, decision, _checked(form_cls(request.POST)), **kw)
            _done(request, ok=str(ok))
        except CityopsError as exc:
            _done(request, exc)
        return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/stability/")
                        else f"/stability/{pk}/")

    return view


def _risk(decision, risk_id):
    risk = decision.risks.filter(pk=risk_id).first()
    if risk is None:
        raise Http404("risk")
    return risk


def _comment(decision, comment_id):
    comment = decision.comments.filter(pk=comment_id).first()
    if comment is None:
        raise Http404("comment")
    return comment


risk_add = _post(lambda r, d, data: services.risk_add(decision=d, actor=r.user, **data), forms.RiskForm,
                 gettext_lazy("已登记风险点"))
risk_update = _post(lambda r, d, data, risk_id: services.risk_update(risk=_risk(d, risk_id), actor=r.user, **data),
                    forms.RiskUpdateForm, gettext_lazy("已更新风险点"))
comment_moderate = _post(lambda r, d, data, comment_id: services.comment_moderate(
    comment=_comment(d, comment_id), actor=r.user, **data), forms.ModerateForm, gettext_lazy("已审核"))
visit_add = _post(lambda r, d, data: services.visit_record(decision=d, actor=r.user, **data), forms.VisitForm,
                  gettext_lazy("已登记走访"))
hearing_add = _post(lambda r, d, data: services.hearing_record(decision=d, actor=r.user, **data), forms.HearingForm,
                    gettext_lazy("已登记听证"))


@login_required
def report(request, pk):
    from cityops.stability.report import report_pdf

    decision = _load(request.user, pk)
    if not selectors.is_staff_reader(decision, request.user):
        raise Http404("report")
    response = HttpResponse(report_pdf(decision=decision), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="stability-{decision.pk}.pdf"'
    return response


# --- the public consultation (no login to read) ------------------------------------------------------------
def public_list(request):
    qs = selectors.public_decisions().order_by("-consultation_opened_at", "-pk")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "stability/public_list.html", {"page": page})


def public_page(request, pk):
    decision = selectors.public_decisions().filter(pk=pk).first()
    if decision is None:
        raise Http404("decision")
    form = forms.CommentForm(request.POST or None, auto_id="comment-%s")
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"/accounts/login/?next=/stability/public/{pk}/")
        try:
            services.comment_submit(decision=decision, actor=request.user, **_checked(form))
            _done(request, ok=_("意见已提交，审核后公开显示"))
            return redirect(f"/stability/public/{pk}/")
        except CityopsError as exc:
            _done(request, exc)
    comments = selectors.comment_list(decision=decision, user=request.user).filter(status=Comment.Status.APPROVED)
    return render(request, "stability/public.html", {
        "d": decision, "form": form, "comments": comments[:200], "counts": selectors.stance_counts(decision=decision),
        "mine": selectors.my_comments(decision=decision, user=request.user),
        "region_name": selectors.regions_shown([decision])[decision.pk],
        "map_config": _map_config(decision, points=False),  # the area only: never the cases and disputes
        "open": decision.in_consultation and timezone.now() < decision.consultation_end,
    })
