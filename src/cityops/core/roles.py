"""Roles (DESIGN.md "Roles and scope"; RULES.md §1). A role is a Django group whose name is the code below."""

from django.utils.translation import gettext_lazy as _

ADMIN = "admin"
LEADER = "leader"  # 领导: reads everything, approves nothing
OPERATOR = "operator"  # 受理员
SHIFT_LEAD = "shift_lead"  # 值班长
DISPATCHER = "dispatcher"  # 派遣员 (市级指挥中心)
DISTRICT_DISPATCHER = "district_dispatcher"  # 区级指挥中心派遣员: dispatches inside their own district
SUPERVISOR = "supervisor"  # 督办
GRID_WORKER = "grid_worker"  # 网格员 / 监督员
DEPT_HANDLER = "dept_handler"  # 专业部门处置人员
DEPT_LEAD = "dept_lead"  # 专业部门负责人
REGION_STAFF = "region_staff"  # 街道 / 社区工作人员 (tiered handling)
MEDIATOR = "mediator"  # 调解员 (member of a mediation committee)
CENTRE_STAFF = "centre_staff"  # 矛盾纠纷多元化解中心工作人员: registers, routes and follows disputes
POLICE_LIAISON = "police_liaison"  # 公安联络员 at a centre: alerted when a dispute may turn violent (§25)
REFERRER = "referrer"  # the service account of a referring body (法院、公安、信访) for its API token
RESIDENT = "resident"  # 市民

ROLE_LABELS = {
    ADMIN: _("系统管理员"),
    LEADER: _("领导"),
    OPERATOR: _("受理员"),
    SHIFT_LEAD: _("值班长"),
    DISPATCHER: _("派遣员"),
    DISTRICT_DISPATCHER: _("区级派遣员"),
    SUPERVISOR: _("督办员"),
    GRID_WORKER: _("网格员"),
    DEPT_HANDLER: _("部门处置人员"),
    DEPT_LEAD: _("部门负责人"),
    REGION_STAFF: _("街道社区工作人员"),
    MEDIATOR: _("调解员"),
    CENTRE_STAFF: _("调处中心工作人员"),
    POLICE_LIAISON: _("公安联络员"),
    REFERRER: _("移交机构系统"),
    RESIDENT: _("市民"),
}
ALL_ROLES = tuple(ROLE_LABELS)

# Roles that work for the whole city: they see every record (DESIGN.md: "city-level roles see all").
CITY_WIDE_ROLES = frozenset({ADMIN, LEADER, OPERATOR, SHIFT_LEAD, DISPATCHER, SUPERVISOR})
# Roles bound to org units (departments, committees): they see what is assigned to their units.
ORG_BOUND_ROLES = frozenset({DEPT_HANDLER, DEPT_LEAD, MEDIATOR, CENTRE_STAFF, POLICE_LIAISON})
# Roles bound to regions (grids, communities, streets, a district's command centre): they see what lies in their
# regions.
REGION_BOUND_ROLES = frozenset({GRID_WORKER, REGION_STAFF, DISTRICT_DISPATCHER})
