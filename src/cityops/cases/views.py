"""Web pages of cases, one per role's work: intake, lists and queues, the case page, approvals, field tasks and
evaluation. Views are thin: reads go through cases.selectors (which scope by user), writes through
cases.services (which check roles, guards and limits and write the timeline); a refusal comes back as a
CityopsError and is shown to the user in the current language."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cityops.cases import evaluation, forms, privacy, selectors, services
from cityops.cases import workflow as case_workflow
from cityops.cases.evaluation_export import evaluation_table, export_response
from cityops.cases.models import Case, CasePhoto, CaseTask
from cityops.cases.templatetags.cases_tags import action_name, state_name
from cityops.core import actions, edge, roles
from cityops.core.errors import CityopsError, NotFound

PAGE_SIZE = 30
MAX_PAGE = 1000


def error_text(exc: CityopsError) -> str:
    """The refusal in the language of the page (zh by default)."""
    return exc.message_en if (get_language() or "").startswith("en") else exc.message


def _case_or_404(user, code: str) -> Case:
    try:
        return selectors.case_get(user=user, code=code)
    except NotFound as exc:
        raise Http404(error_text(exc)) from exc


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


# --- paging without COUNT(*): a page is fetched with one row more to know whether another follows -------
@dataclass
class Window:
    items: list
    number: int
    has_next: bool
    query: str

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def page_window(request, queryset, size: int = PAGE_SIZE) -> Window:
    try:
        number = min(MAX_PAGE, max(1, int(request.GET.get("page", 1))))
    except ValueError:
        number = 1
    start = (number - 1) * size
    rows = list(queryset[start : start + size + 1])
    query = request.GET.copy()
    query.pop("page", None)
    return Window(items=rows[:size], number=number, has_next=len(rows) > size, query=query.urlencode())


# --- actions: what each transition takes and does comes from the workflow (core.actions) -----------------
# How a queue row draws an action's form (cases_tags.case_actions), from what the action takes.
FORM_KINDS = {"CheckForm": "check", "DispatchForm": "dispatch", "MergeForm": "merge", "ExtendForm": "extend",
              "TaskResultForm": "result"}
INPUT_KINDS = {None: "button", actions.ReasonIn: "reason", actions.ResultIn: "result"}


def _kind(t) -> str:
    if t.form:
        return FORM_KINDS.get(str(t.form).rsplit(".", 1)[-1], "form")
    return INPUT_KINDS.get(t.input, "form")


def actions_for(case: Case, user) -> list[dict]:
    """The forms to show for this case and user now (core.actions.available_actions: roles and the guards
    about the case and the user, in a dry run)."""
    return [{"code": t.action, "label": action_name(t.action), "kind": _kind(t), "style": t.style}
            for t in actions.available_actions(case, user)]


def _run_action(request, case: Case, action: str) -> tuple[bool, str]:
    form = actions.action_form(case, actions.find_action(Case, action), request.POST)
    if not form.is_valid():
        return False, actions.form_problems(form)
    try:
        result = actions.run_action(case, action, request.user, form.cleaned_data)
    except CityopsError as exc:
        return False, error_text(exc)
    state = getattr(result, "state", "")
    return True, _("「%(action)s」已完成，案件 %(code)s 现为：%(state)s") % {
        "action": action_name(action), "code": case.code, "state": state_name(state)}


FRAGMENTS = {"row": "cases/_case_row.html", "card": "cases/_task_card.html"}


@login_required
@require_POST
def case_action(request, code: str, action: str):
    if action not in {t.action for t in actions.person_actions(Case.workflow)}:
        raise Http404(action)
    case = _case_or_404(request.user, code)
    ok, text = _run_action(request, case, action)
    fragment = FRAGMENTS.get(request.POST.get("fragment", ""))
    if request.htmx and fragment:
        # Inline in a queue: answer with the row as it is now, the outcome written into it.
        try:
            fresh = selectors.case_get(user=request.user, code=code)
        except NotFound:
            fresh = None
        return render(request, fragment, {
            "case": fresh, "gone_code": code, "notice": text, "notice_ok": ok,
            "acts": actions_for(fresh, request.user) if fresh else [],
            "units": forms.unit_choices(),
            "next": request.POST.get("next", ""), "tasks": selectors.tasks_by_case(cases=[fresh]).get(fresh.pk, []) if fresh else [],
        })
    (messages.success if ok else messages.error)(request, text)
    return redirect(_safe_next(request, f"/cases/{code}/"))


# --- intake --------------------------------------------------------------------------------------------------
def _reporter_mode(user) -> bool:
    """A field worker or resident reports what they see; operators take reports from others."""
    return not (user.role_codes & services.INTAKE_ROLES)


def _grouped_categories():
    groups: dict[str, list] = {}
    # Events (事件) first: most calls are about a situation, not a component.
    for c in sorted(selectors.category_list(), key=lambda c: (c.kind != "event", c.code)):
        label = f"{c.get_kind_display()} · {c.major_zh}"
        groups.setdefault(label, []).append(c)
    return list(groups.items())


@login_required
def case_new(request):
    user = request.user
    if not user.role_codes & (services.INTAKE_ROLES | services.REPORTER_ROLES):
        raise PermissionDenied(_("您的角色不能上报案件"))
    reporter = _reporter_mode(user)
    can_self_handle = roles.GRID_WORKER in user.role_codes
    # A caller (intake's form) or a resident may stay anonymous; staff reporting what they see may not.
    anonymous = bool(user.role_codes & services.INTAKE_ROLES) or not user.role_codes - {roles.RESIDENT}
    if request.method == "POST":
        form = forms.IntakeForm(request.POST, request.FILES, field_worker=reporter, may_be_anonymous=anonymous)
        if form.is_valid():
            try:
                with transaction.atomic():
                    # All or nothing: a refused photo or self-handling leaves no half-made case behind.
                    intake = services.case_create(actor=user, **form.service_kwargs())
                    case = intake.case
                    for f in form.cleaned_data["photos"]:
                        services.case_photo_add(case=case, actor=user, data=f.read(), filename=f.name or "", kind="report")
                    if can_self_handle and form.cleaned_data.get("self_handle"):
                        services.case_self_handle(case=case, actor=user, result=form.cleaned_data["self_handle_result"])
            except CityopsError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, _("已上报，案件编号 %(code)s") % {"code": case.code})
                return redirect(f"/cases/{case.code}/?new=1")
    else:
        form = forms.IntakeForm(field_worker=reporter, may_be_anonymous=anonymous)
    return render(request, "cases/new.html", {
        "form": form, "groups": _grouped_categories(), "can_self_handle": can_self_handle,
        "map_config": map_picker_config(), "reporter_mode": reporter,
    })


@login_required
@require_GET
def address_search(request):
    """Address → point for the intake map (geo's weak-stem address matching)."""
    from cityops.geo.selectors import locate_address

    text = (request.GET.get("q") or "").strip()
    location = locate_address(text=text) if text else None
    if location is None:
        return edge.coded_json("address_not_found", gettext_noop("未找到该地址，请在地图上点选位置"), status=404,
                               extra={"found": False})
    names = [ref.name for ref in (location.district, location.street, location.community, location.grid) if ref]
    return JsonResponse({"found": True, "lon": location.lon, "lat": location.lat, "label": " / ".join(names)})


def map_picker_config(**extra) -> dict:
    """The page config of cases/map.js: a case's map, or the intake forms' picker (cases/_map_picker.html, also the
    dispute desk's; `locate_point` and `area` there make it locate the picked point and refuse one outside)."""
    return {
        "regions": "/api/v1/geo/regions.geojson?level=district&simplify=0.0003",
        "locate": "/cases/locate/",
        "text": {"not_found": _("未找到该地址，请在地图上点选位置"), "no_geo": _("无法获取当前位置"),
                 "picked": _("已选位置"), "searching": _("查找中…"), "region": _("所在区域："),
                 "outside_city": _("该位置不在本市范围内，请重新点选"),
                 "outside_area": _("该位置不在您负责的区域内，请重新点选或填写地址："), "your_area": _("您负责的区域："),
                 "locate_failed": _("暂时无法确定所在区域，提交时再核对")},
        **extra,
    }


# --- lists and queues ----------------------------------------------------------------------------------------
def _rows(window: Window, user, with_tasks: bool = False) -> list[dict]:
    # The sub-tasks of a page's cases in one query: shown on the rows, and read by the dry run of "handle".
    prefetch_related_objects(window.items, Prefetch("tasks", queryset=CaseTask.objects.select_related("department").order_by("id")))
    return [{"case": c, "acts": actions_for(c, user), "tasks": list(c.tasks.all()) if with_tasks else []}
            for c in window.items]


def _districts():
    from cityops.geo.selectors import region_list

    return list(region_list(level="district").select_related(None).values_list("code", "name"))


@login_required
def case_list(request):
    data = request.GET.copy()
    if "from" in data:
        data["from_"] = data.get("from")
    form = forms.CaseFilterForm(data, categories=selectors.category_list(), districts=_districts())
    filters = form.filters()
    try:
        qs = selectors.case_list(user=request.user, filters=filters)
        window = page_window(request, qs.select_related("proposed_department"))
    except CityopsError as exc:
        messages.error(request, error_text(exc))
        window = Window([], 1, False, "")
    return render(request, "cases/list.html", {
        "form": form, "page": window, "rows": _rows(window, request.user), "units": forms.unit_choices(),
        "next": request.get_full_path(), "title": _("案件"),
    })


@login_required
def dispatch_queue(request):
    """派遣员 (the city's or a district's command centre): registered and returned cases waiting at its level, by
    deadline, each with one-click dispatch to the proposal."""
    window = page_window(request, selectors.dispatch_queue(user=request.user).select_related("proposed_department"))
    return render(request, "cases/queue.html", {
        "page": window, "rows": _rows(window, request.user, with_tasks=True), "units": forms.unit_choices(),
        "next": request.get_full_path(), "title": _("派遣队列"), "kind": "dispatch",
    })


@login_required
def department_queue(request):
    """专业部门: what the department leads, by deadline with traffic lights; sub-tasks of joint handling
    under each case; below, the sub-tasks where the department assists."""
    user = request.user
    window = page_window(request, selectors.department_queue(user=user))
    assisting = selectors.assisting_tasks(user=user)
    return render(request, "cases/queue.html", {
        "page": window, "rows": _rows(window, user, with_tasks=True), "units": forms.unit_choices(),
        "next": request.get_full_path(), "title": _("本部门待办"), "kind": "department", "assisting": assisting,
    })


@login_required
def level_queue(request):
    """街道/社区: the cases waiting at the unit's level in its region (claim or escalate) and those it holds."""
    user = request.user
    window = page_window(request, selectors.level_queue(user=user).select_related("proposed_department"))
    return render(request, "cases/queue.html", {
        "page": window, "rows": _rows(window, user, with_tasks=True), "units": forms.unit_choices(),
        "next": request.get_full_path(), "title": _("本级待办"), "kind": "level",
    })


@login_required
def field_tasks(request):
    """网格员: reports to verify (核实) and handled cases to check on site (核查) in their regions."""
    qs = selectors.case_list(user=request.user, filters={"state": "checking,handled", "order": "deadline"})
    window = page_window(request, qs)
    return render(request, "cases/tasks.html", {
        "page": window, "rows": _rows(window, request.user), "next": request.get_full_path(),
    })


# Requests waiting for someone's decision, and verified cases waiting to be closed.
APPROVAL_SECTIONS = (
    ("void_requested", gettext_lazy("作废申请")),
    ("returned", gettext_lazy("退回申请")),
    ("extension_requested", gettext_lazy("延期申请")),
    ("suspend_requested", gettext_lazy("挂账申请")),
    ("suspended", gettext_lazy("挂账中（可恢复处置）")),
    ("verified", gettext_lazy("待结案")),
)
APPROVAL_ROWS = 50


@login_required
def approvals(request):
    user = request.user
    mine = {s for t in Case.workflow.transitions if t.roles & user.role_codes for s in t.sources}
    sections = []
    for state, title in APPROVAL_SECTIONS:
        if state not in mine:
            continue
        qs = selectors.approval_list(user=user, state=state).select_related("proposed_department")
        items = list(qs[: APPROVAL_ROWS + 1])
        rows = [{"case": c, "acts": actions_for(c, user), "tasks": []} for c in items[:APPROVAL_ROWS]]
        sections.append({"state": state, "title": title, "rows": rows, "more": len(items) > APPROVAL_ROWS})
    return render(request, "cases/approvals.html", {
        "sections": sections, "units": forms.unit_choices(), "next": request.get_full_path(),
    })


# --- the case page -------------------------------------------------------------------------------------------
DUPLICATE_STATES = ("reported", "checking", "registered")


@login_required
def case_detail(request, code: str):
    user = request.user
    try:
        case, entries = selectors.case_timeline(user=user, code=code)
    except NotFound as exc:
        raise Http404(error_text(exc)) from exc
    tasks = list(selectors.case_tasks(case=case))
    lead = case.lead_department_id in user.org_unit_ids if case.lead_department_id else False
    units = forms.unit_choices()
    acts = actions_for(case, user)
    for act in acts:
        act["form"] = actions.action_form(case, actions.find_action(Case, act["code"]))
    photo_kinds = services.photo_kinds_for(case=case, user=user)
    context = {
        "case": case,
        "entries": privacy.timeline_seen_by(case, entries),
        "tasks": tasks,
        "task_acts": _task_actions(tasks, case, user),
        "photos": list(case.photos.all()),
        "consultations": list(case.consultations.prefetch_related("participants")),
        "reporter": privacy.reporter_seen_by(case, user),
        "acts": acts,
        "duplicates": services.case_duplicates(case) if case.state in DUPLICATE_STATES else [],
        "can_merge": any(a["code"] == "merge" for a in acts),
        "photo_kinds": [(kind, CasePhoto.Kind(kind).label) for kind in photo_kinds],
        "can_consult": _may_consult(case, user, lead),
        "consult_form": forms.ConsultationForm(choices=units, auto_id="consult-%s",
                                               initial={"meeting_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}),
        "map_config": map_picker_config(point=[case.lon, case.lat]),
        "new": request.GET.get("new") == "1",
        "next": request.get_full_path(),
    }
    return render(request, "cases/detail.html", context)


def _may_consult(case: Case, user, lead: bool) -> bool:
    # Mirrors who may hold a consultation so the form is only offered to them; the service decides.
    if case.state not in case_workflow.OPEN_STATES:
        return False
    codes = user.role_codes
    return bool(codes & {roles.DISPATCHER, roles.SHIFT_LEAD} or (codes & case_workflow.DEPT and lead))


def _task_actions(tasks, case: Case, user) -> dict[int, list[str]]:
    """Per open sub-task, what the user may do with it now (done / release)."""
    out = {}
    for task in tasks:
        task.case = case  # the guards read the case's lead department; it is loaded already
        acts = [t.action.removeprefix("task_") for t in actions.available_actions(task, user)]
        if acts:
            out[task.pk] = acts
    return out


@login_required
@require_POST
def photo_add(request, code: str):
    case = _case_or_404(request.user, code)
    form = forms.PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(_safe_next(request, f"/cases/{code}/"))
    kind = request.POST.get("kind") or "report"
    try:
        with transaction.atomic():
            for f in form.cleaned_data["photos"]:
                services.case_photo_add(case=case, actor=request.user, data=f.read(), filename=f.name or "", kind=kind)
    except CityopsError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("已上传 %(n)s 张照片") % {"n": len(form.cleaned_data["photos"])})
    return redirect(_safe_next(request, f"/cases/{code}/"))


@login_required
@require_POST
def consultation_add(request, code: str):
    case = _case_or_404(request.user, code)
    form = forms.ConsultationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{form.fields[f].label if f in form.fields else ''} {' '.join(e)}".strip()
                                          for f, e in form.errors.items()))
        return redirect(f"/cases/{code}/#consult")
    d = form.cleaned_data
    try:
        services.consultation_record(case=case, actor=request.user, meeting_at=d["meeting_at"], topic=d["topic"],
                                     participants=d["participants"], decisions=form.decisions(), minutes=d["minutes"])
    except CityopsError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("会商已记录，决定已形成协办任务"))
    return redirect(f"/cases/{code}/")


@login_required
@require_POST
def task_action(request, code: str, task_id: int, action: str):
    case = _case_or_404(request.user, code)
    task = case.tasks.filter(pk=task_id).first()
    if task is None or action not in ("done", "release"):
        raise Http404(_("协办任务不存在"))
    form = actions.action_form(task, actions.find_action(CaseTask, f"task_{action}"), request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写内容"))
        return redirect(_safe_next(request, f"/cases/{code}/"))
    try:
        actions.run_action(task, f"task_{action}", request.user, form.cleaned_data)
    except CityopsError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("协办任务已完成") if action == "done" else _("协办任务已免除"))
    return redirect(_safe_next(request, f"/cases/{code}/"))


# --- evaluation ----------------------------------------------------------------------------------------------
def _evaluation_rows(request):
    """The form, the period and the rows the user may read (selectors.evaluation_rows): without a kind asked for,
    the first they may open; a kind they may not open is a 403 page."""
    kinds = selectors.evaluation_kinds(user=request.user)
    if not kinds or request.GET.get("kind") in set(evaluation.EVALUATIONS) - set(kinds):
        raise PermissionDenied(_("无权查看综合评价"))
    form = forms.EvaluationForm(request.GET or None, today=timezone.localdate(), kinds=kinds)
    p = form.period()
    if p["end"] < p["start"]:
        return form, p, [], _("结束日期早于开始日期")
    try:
        rows = selectors.evaluation_rows(user=request.user, kind=p["kind"], start=p["start"], end=p["end"],
                                         level=p["level"])
    except CityopsError as exc:
        return form, p, [], error_text(exc)
    return form, p, rows, ""


@login_required
def evaluation_page(request):
    form, p, rows, problem = _evaluation_rows(request)
    chosen = evaluation.EVALUATIONS[p["kind"]]
    query = urlencode({"kind": p["kind"], "from": p["start"].isoformat(), "to": p["end"].isoformat(), "level": p["level"]})
    return render(request, "cases/evaluation.html", {
        "form": form, "period": p, "problem": problem, "kinds": form.fields["kind"].choices, "query": query,
        "table": evaluation_table(p["kind"], rows, start=p["start"], end=p["end"]),
        "scored": chosen.scored, "min_due": evaluation.min_due(),
        # How a region's score is made (evaluation.score_regions), stated beside the table with the weights in force.
        "region_weights": evaluation.weights("region") if chosen.rows_are == evaluation.REGIONS else None,
    })


@login_required
def evaluation_export(request, fmt: str):
    """The page's table as CSV or Excel (cases.evaluation_export)."""
    if fmt not in ("csv", "xlsx"):
        raise Http404(fmt)
    form, p, rows, problem = _evaluation_rows(request)
    if problem:
        messages.error(request, problem)
        return redirect("/cases/evaluation/")
    table = evaluation_table(p["kind"], rows, start=p["start"], end=p["end"])
    return export_response(table, fmt, filename=f"evaluation-{p['kind']}-{p['start']}-{p['end']}")
