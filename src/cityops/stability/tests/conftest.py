"""Fixtures of the stability tests: a small piece of 汉阳区 (district, street, community), the proposing and the
assessing units, one named user per part, and a decision factory that walks the workflow through the services."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import shapely
from django.utils import timezone

from cityops.core import roles

TZ = ZoneInfo("Asia/Shanghai")
HANYANG, STREET, COMMUNITY = "420105", "420105001", "420105001001"
PROPOSING, ASSESSING, OTHER = "ST-ZSB", "ST-WPB", "ST-OTHER"
AREA = {"type": "Polygon", "coordinates": [[[114.20, 30.54], [114.23, 30.54], [114.23, 30.56], [114.20, 30.56],
                                            [114.20, 30.54]]]}


@pytest.fixture(autouse=True)
def _fresh_rate_windows():
    """Comments are rate-limited per user id in the cache; ids repeat across tests (SQLite reuses them)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def area_regions(db):
    from cityops.geo.geometry import shape_fields
    from cityops.geo.models import Region

    parent = None
    for level, code, name, box in (("district", HANYANG, "汉阳区", (114.1, 30.45, 114.3, 30.6)),
                                   ("street", STREET, "鹦鹉街道", (114.2, 30.5, 114.25, 30.57)),
                                   ("community", COMMUNITY, "鹦鹉社区", (114.2, 30.54, 114.23, 30.56))):
        # update_or_create: the Wuhan demo (loaded by other tests) has these codes under other names
        parent, _ = Region.objects.update_or_create(
            code=code, defaults={"name": name, "level": level, "parent": parent, **shape_fields(shapely.box(*box))})
    return parent


@pytest.fixture
def units(db):
    from cityops.accounts.models import OrgUnit

    made = {}
    for code, name in ((PROPOSING, "汉阳区房屋征收管理办公室"), (ASSESSING, "汉阳区社会稳定风险评估中心"),
                       (OTHER, "汉阳区文化和旅游局")):
        made[code], _ = OrgUnit.objects.update_or_create(
            code=code, defaults={"name": name, "kind": OrgUnit.Kind.DEPARTMENT, "region_code": HANYANG})
    return made


@pytest.fixture
def assessor(make_user, units):
    return make_user("t_st_assessor", roles.DEPT_HANDLER, org_units=[ASSESSING], first_name="评估员 周敏")


@pytest.fixture
def proposer(make_user, units):
    return make_user("t_st_proposer", roles.DEPT_HANDLER, org_units=[PROPOSING], first_name="征收办 吴强")


@pytest.fixture
def decider(make_user, units):
    return make_user("t_st_decider", roles.DEPT_LEAD, org_units=[PROPOSING], first_name="征收办主任 郑伟")


@pytest.fixture
def other_staff(make_user, units):
    return make_user("t_st_other", roles.DEPT_LEAD, roles.DEPT_HANDLER, org_units=[OTHER])


@pytest.fixture
def admin_user(make_user):
    return make_user("t_st_admin", roles.ADMIN)


@pytest.fixture
def clock(monkeypatch):
    """clock(datetime) freezes timezone.now at that instant (Asia/Shanghai when naive); returns it."""

    def set_to(when: datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=TZ)
        monkeypatch.setattr(timezone, "now", lambda: when)
        return when

    return set_to


@pytest.fixture
def new_decision(area_regions, units, proposer):
    from cityops.stability import services

    def make(**kw):
        fields = {"title": "汉阳区鹦鹉片区旧城改造征收项目", "description": "对鹦鹉片区 320 户居民房屋实施征收，建设安置房。",
                  "proposing_unit": PROPOSING, "assessing_unit": ASSESSING, "region_code": STREET, **kw}
        return services.decision_create(actor=proposer, **fields)

    return make


@pytest.fixture
def walk(new_decision, assessor, decider, proposer, clock):
    """walk(upto, level=…, start=…, **fields of decision_create): a decision taken through the workflow by the right people, the clock moved
    past each floor, up to the state `upto`."""
    from cityops.stability import services

    order = ["proposed", "scoped", "risks_identified", "consultation", "assessed", "legality_review", "decided",
             "published", "monitoring"]

    def go(upto: str, *, level: str = "low", outcome: str = "implement", start=datetime(2026, 3, 2, 9, 0),
           mitigated: bool = True, **fields):
        now = clock(start)
        d = new_decision(**fields)
        steps = order[1:order.index(upto) + 1]
        for state in steps:
            if state == "scoped":
                d = services.decision_scope(decision=d, actor=assessor, scope="征收范围内 320 户，安置方式与补偿标准")
            elif state == "risks_identified":
                services.risk_add(decision=d, actor=assessor, dimension="legality", description="征收补偿标准的法律依据",
                                  likelihood=2, impact=3, mitigation="依《国有土地上房屋征收与补偿条例》逐项核对")
                services.risk_add(decision=d, actor=assessor, dimension="controllability", description="部分居民对补偿不满聚集",
                                  likelihood=3, impact=4, mitigation="入户走访、一户一策" if mitigated else "")
                d = services.risk_update(risk=d.risks.first(), actor=assessor, status="mitigating").decision
                d = type(d).objects.get(pk=d.pk)
                from cityops.core.workflow import transition

                d = transition(d, "identify_risks", assessor)
            elif state == "consultation":
                d = services.decision_open_consultation(decision=d, actor=assessor,
                                                        ends_on=timezone.localdate() + timedelta(days=30))
            elif state == "assessed":
                now = clock(now + timedelta(days=32))
                d = services.decision_assess(decision=d, actor=assessor, level=level, summary="风险可控")
            elif state == "legality_review":
                d = services.decision_submit_review(decision=d, actor=assessor)
            elif state == "decided":
                now = clock(now + timedelta(days=20))
                d = services.decision_decide(decision=d, actor=decider, outcome=outcome)
            elif state == "published":
                d = services.decision_publish(decision=d, actor=proposer)
            elif state == "monitoring":
                from cityops.core.workflow import transition

                d = transition(d, "start_monitoring", assessor)
        return d

    return go
