from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from cityops.core import edge, roles
from cityops.core.errors import Forbidden
from cityops.core.selectors import notification_list

# What each role comes to do: (title, what it is for, where). The home page shows the cards of the user's roles.
ROLE_CARDS = {
    roles.OPERATOR: [
        (_("热线受理"), _("来电转工单：智能分类、地址解析、一键派单"), "/hotline/"),
        (_("上报受理"), _("登记热线来电与市民上报"), "/cases/new/"),
        (_("待立案"), _("核对上报并立案"), "/cases/?state=reported"),
    ],
    roles.SHIFT_LEAD: [(_("待审批"), _("作废、结案与延期审批"), "/cases/approvals/"), (_("待结案"), _("核查通过的案件"), "/cases/?state=verified")],
    roles.DISPATCHER: [(_("派遣队列"), _("把案件派给专业部门"), "/cases/?state=registered"), (_("退回与延期申请"), _("审批部门的退回、延期、挂账"), "/cases/approvals/")],
    roles.DEPT_HANDLER: [(_("本部门待办"), _("按时限排序，红黄绿灯提示"), "/cases/queue/")],
    roles.DEPT_LEAD: [(_("本部门待办"), _("按时限排序，红黄绿灯提示"), "/cases/queue/")],
    roles.GRID_WORKER: [(_("现场任务"), _("核实、核查本网格的案件"), "/cases/tasks/"), (_("上报问题"), _("拍照上报或当场处置"), "/cases/new/")],
    roles.REGION_STAFF: [(_("辖区案件"), _("本街道社区的案件"), "/cases/")],
    roles.LEADER: [(_("综合评价"), _("部门、区域、岗位考核排名"), "/cases/evaluation/"), (_("全部案件"), _("全市案件一览"), "/cases/")],
    roles.SUPERVISOR: [(_("超期督办"), _("超期案件的催办与通报"), "/cases/?overdue=1")],
    roles.RESIDENT: [(_("我的上报"), _("查看我反映的问题和办理进度"), "/cases/")],
    roles.ADMIN: [(_("管理后台"), _("参考数据、用户与组织"), "/admin/"), (_("地图"), _("区划与网格"), "/geo/")],
}


@login_required
def home(request):
    cards = []
    for code in roles.ALL_ROLES:
        if code in request.user.role_codes:
            cards.extend(ROLE_CARDS.get(code, []))
    role_names = [roles.ROLE_LABELS[c] for c in roles.ALL_ROLES if c in request.user.role_codes]
    unread = notification_list(user=request.user).filter(read_at__isnull=True).count()
    return render(request, "core/home.html", {"cards": cards, "role_names": role_names, "unread": unread})


@login_required
def inbox(request):
    page = Paginator(notification_list(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "core/inbox.html", {"page": page})


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
