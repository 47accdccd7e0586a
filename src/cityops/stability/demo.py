"""Demo data (core.demo): the units and two logins of 汉阳区's stability assessment, a decision under public
consultation — 汉阳区鹦鹉片区旧城改造征收项目, with its risk register, comments and a visit — and a published one under
monitoring (a bus-line change decided "implement with measures"). Each step goes through the services on a
simulated clock, so the timelines read as if it had happened over the last months. Idempotent: a decision that
exists is left as it is."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from cityops.accounts.models import OrgUnit, User
from cityops.core import roles
from cityops.core.workflow import transition

UNITS = {
    "HY-WPZX": ("汉阳区社会稳定风险评估中心", "Hanyang District Social Stability Risk Assessment Centre"),
    "HY-ZSB": ("汉阳区房屋征收管理办公室", "Hanyang District Housing Expropriation Office"),
    "HY-JT": ("汉阳区交通运输局", "Hanyang District Transport Bureau"),
}
HANYANG = "420105"
# username → (role, display name, unit)
DEMO_USERS = {
    "stability_hy": (roles.DEPT_HANDLER, "稳评中心 评估员 周敏", "HY-WPZX"),
    "expropriation_hy": (roles.DEPT_LEAD, "征收办主任 郑伟", "HY-ZSB"),
    "transport_hy": (roles.DEPT_LEAD, "区交通运输局局长 钱军", "HY-JT"),
}
CONSULTING = "汉阳区鹦鹉片区旧城改造征收项目"
MONITORED = "汉阳区鹦鹉大道沿线公交线路优化调整"


def load_demo() -> str:
    for code, (name, name_en) in UNITS.items():
        OrgUnit.objects.update_or_create(code=code, defaults={"name": name, "name_en": name_en, "region_code": HANYANG,
                                                              "kind": OrgUnit.Kind.DEPARTMENT})
    return f"{len(UNITS)} units"


def _users() -> dict[str, User]:
    made = {}
    for username, (role, display, unit) in DEMO_USERS.items():
        user, _ = User.objects.get_or_create(username=username)
        user.first_name = display
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get_or_create(name=role)[0]])
        user.org_units.set(OrgUnit.objects.filter(code=unit))
        made[username] = User.objects.get(pk=user.pk)
    return made


def _area() -> str:
    """A street of 汉阳区 in the demo geography (鹦鹉街 when it is there), else the district."""
    from cityops.geo.models import Region

    streets = Region.objects.filter(level="street", code__startswith=HANYANG).order_by("code")
    street = streets.filter(name__startswith="鹦鹉").first() or streets.first()
    if street is not None:
        return street.code
    return HANYANG if Region.objects.filter(code=HANYANG).exists() else ""


def _at(days_ago: float, hour: int = 10):
    day = timezone.localdate() - timedelta(days=int(days_ago))
    return datetime.combine(day, time(hour), timezone.get_current_timezone())


@transaction.atomic
def load_demo_decisions() -> str | None:
    from cityops.cases.simulation import sim_clock
    from cityops.stability import services
    from cityops.stability.models import Decision

    users = _users()
    region = _area()
    if not region:
        return "no 汉阳区 in the geography: no demo decisions"
    assessor, expropriation, transport = users["stability_hy"], users["expropriation_hy"], users["transport_hy"]
    resident = User.objects.filter(username="resident").first()
    made = 0
    if not Decision.objects.filter(title=CONSULTING).exists():
        with sim_clock(_at(20)):
            d = services.decision_create(
                actor=expropriation, title=CONSULTING, proposing_unit="HY-ZSB", assessing_unit="HY-WPZX",
                region_code=region, description="对鹦鹉片区 1980 年代建成的 12 栋老旧住宅（约 320 户）实施房屋征收，"
                "原址建设安置住房和社区服务中心。补偿方式：货币补偿或产权调换，由被征收人选择。")
            d = services.decision_scope(decision=d, actor=assessor, scope="征收范围内 320 户居民和 14 家商户；"
                                        "补偿方案、安置方式、过渡期安排及施工期间对周边的影响。")
        with sim_clock(_at(16)):
            for dimension, text, likelihood, impact, mitigation in (
                ("legality", "征收决定与补偿方案须符合《国有土地上房屋征收与补偿条例》", 2, 4, "法制审核逐条核对，补偿方案公开征求意见"),
                ("rationality", "补偿标准与周边房价差距引发不满", 4, 4, ""),
                ("feasibility", "安置房建设周期长，过渡期超过 24 个月", 3, 3, "分期建设，优先建设安置房"),
                ("controllability", "部分商户对停业损失补偿不满，可能集体上访", 3, 4, ""),
                ("security", "老旧房屋拆除过程中的施工安全", 2, 5, "专业拆除队伍，设置围挡和警戒区"),
            ):
                services.risk_add(decision=d, actor=assessor, dimension=dimension, description=text,
                                  likelihood=likelihood, impact=impact, mitigation=mitigation)
            d = transition(Decision.objects.get(pk=d.pk), "identify_risks", assessor)
        ends_on = timezone.localdate() + timedelta(days=21)  # opened 14 days ago: 35 days in all
        with sim_clock(_at(14)):
            d = services.decision_open_consultation(decision=d, actor=assessor, ends_on=ends_on,
                                                    note="通过政府网站、社区公告栏公开征求意见")
        with sim_clock(_at(9, 15)):
            services.visit_record(decision=d, actor=assessor, visited_on=timezone.localdate(), place="鹦鹉片区 3、5、7 栋",
                                  people_met=46, findings="多数住户支持改造，关注补偿标准和过渡期租房补贴；两户老人希望就近安置。")
        if resident is not None:
            with sim_clock(_at(8, 20)):
                c = services.comment_submit(decision=d, actor=resident, stance="support",
                                            text="支持旧城改造，希望尽快改善居住条件，安置房尽量就近。")
            with sim_clock(_at(7)):
                services.comment_moderate(comment=c, actor=assessor, approve=True)
            with sim_clock(_at(2, 21)):
                services.comment_submit(decision=d, actor=resident, stance="oppose",
                                        text="商铺停业损失的补偿标准没有公布，请补充说明。")
        made += 1
    if not Decision.objects.filter(title=MONITORED).exists():
        with sim_clock(_at(120)):
            d = services.decision_create(
                actor=transport, title=MONITORED, proposing_unit="HY-JT", assessing_unit="HY-WPZX", region_code=region,
                description="撤并鹦鹉大道沿线重复线路 2 条，新开社区微循环线路 1 条，调整 3 条线路走向。")
            d = services.decision_scope(decision=d, actor=assessor, scope="沿线 6 个社区居民出行、公交企业职工安置")
            for dimension, text, likelihood, impact, mitigation in (
                ("rationality", "老年人换乘不便", 3, 3, "新开微循环线路衔接，设置换乘指引"),
                ("controllability", "线路撤并引发集中投诉", 2, 3, "提前一个月公告，12345 热线专项答复口径"),
            ):
                services.risk_add(decision=d, actor=assessor, dimension=dimension, description=text,
                                  likelihood=likelihood, impact=impact, mitigation=mitigation)
            d = transition(Decision.objects.get(pk=d.pk), "identify_risks", assessor)
            d = services.decision_open_consultation(decision=d, actor=assessor,
                                                    ends_on=timezone.localdate() + timedelta(days=30))
        with sim_clock(_at(88)):
            d = services.decision_assess(decision=d, actor=assessor, level="medium",
                                         summary="中风险：须落实换乘衔接和公告答复措施后实施。")
            d = services.decision_submit_review(decision=d, actor=assessor)
        with sim_clock(_at(70)):
            d = services.decision_decide(decision=d, actor=transport, outcome="implement_with_measures",
                                         note="按评估意见落实微循环线路和换乘指引后实施")
            d = services.decision_publish(decision=d, actor=transport)
        with sim_clock(_at(69)):
            transition(d, "start_monitoring", assessor)
        made += 1
    return f"{made} decisions" if made else None
