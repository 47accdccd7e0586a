"""A simulated city (issue 3): reports over the Wuhan demo and every role acting on them with realistic
delays, through the real services, on a simulated clock — so the timeline is exactly what the engine writes.

The clock: `timezone.now` is replaced while an event runs (`sim_clock`), so services, the workflow engine and
the timeline all see the simulated instant. Events are processed in time order from a heap; an event due after
the end of the simulated window is dropped, leaving that case open (as in a real city at any moment).
Delays are drawn in working time (office hours on Chinese working days), with a tail that overruns limits.
"""

from __future__ import annotations

import heapq
import io
import itertools
import random
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.contrib.auth.models import Group
from django.utils import timezone

from cityops.accounts.models import OrgUnit, User, command_centre_code
from cityops.cases import services as s
from cityops.cases.demo import demo_description
from cityops.cases.models import Case, Category
from cityops.cases.workflow import handle_limit_hours
from cityops.core import calendar, roles
from cityops.core.errors import CityopsError
from cityops.core.workflow import sweep_overdue

HOUR = 3600.0


@contextmanager
def sim_clock(when: datetime):
    original = timezone.now
    timezone.now = lambda: when
    try:
        yield
    finally:
        timezone.now = original


def _tiny_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 140, 60)).save(out, "JPEG")
    return out.getvalue()


@dataclass
class Cast:
    """The simulated people, one or a few per role (created once, reused by later runs)."""

    operators: list
    shift_leads: list
    dispatchers: list
    handlers: dict  # department code → user
    grid_workers: dict  # district code → user
    residents: list
    region_staff: dict = field(default_factory=dict)  # street or community code → user
    district_dispatchers: dict = field(default_factory=dict)  # district code → user

    @classmethod
    def build(cls, districts: list[str]) -> Cast:
        def user(name: str, role: str, display: str, units=(), regions=()):
            u, created = User.objects.get_or_create(username=name, defaults={"first_name": display})
            if created:
                u.set_unusable_password()
                u.region_codes = list(regions)
                u.save()
                u.groups.add(Group.objects.get_or_create(name=role)[0])
                if units:
                    u.org_units.set(OrgUnit.objects.filter(code__in=units))
            return User.objects.get(pk=u.pk)

        depts = list(OrgUnit.objects.filter(kind="department", region_code="").values_list("code", flat=True))
        # (District bureaus' handlers are made when a case first reaches one: Cast.member_of.)
        return cls(
            operators=[user(f"sim_operator{i}", roles.OPERATOR, f"模拟受理员{i}") for i in (1, 2)],
            shift_leads=[user("sim_shiftlead", roles.SHIFT_LEAD, "模拟值班长")],
            dispatchers=[user(f"sim_dispatcher{i}", roles.DISPATCHER, f"模拟派遣员{i}") for i in (1, 2)],
            handlers={d: user(f"sim_dept_{d.lower()}", roles.DEPT_HANDLER, f"模拟{d}处置员", units=[d]) for d in depts},
            grid_workers={d: user(f"sim_grid_{d}", roles.GRID_WORKER, f"模拟网格员{d}", regions=[d]) for d in districts},
            residents=[user(f"sim_resident{i}", roles.RESIDENT, f"模拟市民{i}") for i in range(1, 6)],
        )

    @staticmethod
    def _member(username: str, display: str, role: str, unit: OrgUnit, regions=()):
        u, created = User.objects.get_or_create(username=username, defaults={"first_name": display})
        if created:
            u.set_unusable_password()
            u.region_codes = list(regions)
            u.save()
            u.groups.add(Group.objects.get_or_create(name=role)[0])
            u.org_units.add(unit)
        return User.objects.get(pk=u.pk)

    def staff_for(self, code: str):
        """The simulated worker of a street office or community committee (by its region code)."""
        if code not in self.region_staff:
            unit = OrgUnit.objects.filter(code=code, kind__in=("street", "community")).first()
            if unit is None:
                return None
            prefix = "sim_comm_" if unit.kind == "community" else "sim_street_"
            self.region_staff[code] = self._member(f"{prefix}{code}", f"模拟{unit.name}", roles.REGION_STAFF, unit,
                                                   regions=[code])
        return self.region_staff[code]

    def district_dispatcher(self, district: str):
        """The simulated dispatcher of a district's command centre, or None without one (no district units)."""
        if district not in self.district_dispatchers:
            unit = OrgUnit.objects.filter(code=command_centre_code(district), kind="command").first()
            self.district_dispatchers[district] = unit and self._member(
                f"sim_district_{district}", f"模拟{unit.name}派遣员", roles.DISTRICT_DISPATCHER, unit, regions=[district])
        return self.district_dispatchers[district]

    def member_of(self, unit: OrgUnit | None):
        """Who acts for the unit holding a case: a city department's handler, a district bureau's (made when
        first needed), a street's or community's worker."""
        if unit is None:
            return None
        if unit.kind in ("street", "community"):
            return self.staff_for(unit.code)
        if unit.code not in self.handlers and unit.level == "district":
            self.handlers[unit.code] = self._member(f"sim_dept_{unit.code.lower()}", f"模拟{unit.name}处置员",
                                                    roles.DEPT_HANDLER, unit)
        return self.handlers.get(unit.code)


class Simulation:
    def __init__(self, *, hours: float, rate: float, seed: int = 1, start: datetime | None = None, stdout=None):
        self.rng = random.Random(seed)
        self.hours = hours
        self.rate = rate
        self.end = start + timedelta(hours=hours) if start else timezone.now()
        self.start = start or self.end - timedelta(hours=hours)
        self.stdout = stdout
        self.heap: list = []
        self.seq = itertools.count()
        self.stats: Counter = Counter()
        self.photo = _tiny_jpeg()

    # --- plumbing ------------------------------------------------------------------------------------------
    def at(self, when: datetime, fn, *args) -> None:
        if when <= self.end:
            heapq.heappush(self.heap, (when, next(self.seq), fn, args))
        else:
            self.stats["left_open"] += 1

    def later(self, now: datetime, mean_wh: float, fn, *args, spread: float = 0.6) -> None:
        """Schedule after a lognormal delay in working hours (median ≈ mean_wh)."""
        delay = max(60.0, self.rng.lognormvariate(0, spread) * mean_wh * HOUR)
        self.at(calendar.add_work_seconds(now, delay), fn, *args)

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def office_seconds(self) -> float:
        """Working time within the window: without any, every step after a report falls after the window."""
        return calendar.work_seconds_between(self.start, self.end)

    # --- setup ---------------------------------------------------------------------------------------------
    def setup(self) -> None:
        from cityops.geo import index

        idx = index.get_index()
        self.grids = [n for n in idx.nodes.values() if n.level == "grid"]
        if not self.grids or not Category.objects.exists():
            raise CityopsError("请先运行 cityops load_demo", "Load the demo city first: cityops load_demo", code="no_demo")
        self.categories = list(Category.objects.filter(active=True))
        districts = sorted({g.code[:6] for g in self.grids})
        self.cast = Cast.build(districts)
        # Central districts report more than the outskirts.
        central = {"420102", "420103", "420104", "420105", "420106", "420107", "420111"}
        self.grid_weights = [3.0 if g.code[:6] in central else 1.0 for g in self.grids]

    # --- events --------------------------------------------------------------------------------------------
    def run(self) -> Counter:
        self.setup()
        t = self.start
        while True:
            t += timedelta(hours=self.rng.expovariate(self.rate))
            if t > self.end:
                break
            self.at(t, self.report)
        # Other apps' traffic over the same window, clock and sweep: an AppConfig's `simulate(sim)` schedules its
        # events here (the disputes app's centres and mediators).
        for config in apps.get_app_configs():
            if hasattr(config, "simulate"):
                config.simulate(self)
        sweep_at = self.start + timedelta(hours=1)
        while self.heap:
            when, _n, fn, args = heapq.heappop(self.heap)
            while sweep_at <= when:
                with sim_clock(sweep_at):
                    for k, v in sweep_overdue(now=sweep_at).items():
                        self.stats[k] += v
                sweep_at += timedelta(hours=1)
            with sim_clock(when):
                try:
                    fn(when, *args)
                except CityopsError as exc:
                    self.stats[f"refused:{exc.code}"] += 1
        return self.stats

    def _case(self, pk: int) -> Case:
        return Case.objects.select_related("category", "proposed_department").get(pk=pk)

    def report(self, now: datetime) -> None:
        grid = self.rng.choices(self.grids, weights=self.grid_weights)[0]
        cat = self.pick(self.categories)
        lon = grid.centroid_lon + self.rng.uniform(-0.0004, 0.0004)
        lat = grid.centroid_lat + self.rng.uniform(-0.0004, 0.0004)
        roll = self.rng.random()
        district = grid.code[:6]
        kw = {"category": cat.code, "lon": lon, "lat": lat, "description": demo_description(cat, self.rng)}
        if roll < 0.45:
            actor, kw["source"] = self.cast.grid_workers[district], "field"
        elif roll < 0.80:
            actor, kw["source"] = self.pick(self.cast.operators), "hotline"
            kw["reporter_phone"] = f"138{self.rng.randrange(10**8):08d}"
            kw["hotline_kind"] = self.rng.choice(["", "", "complaint", "help", "consultation"])
        elif roll < 0.95:
            actor, kw["source"] = self.pick(self.cast.residents), "portal"
        else:
            actor, kw["source"] = None, self.rng.choice(["iot", "video"])
        if self.rng.random() < 0.08:
            kw["urgency"] = "urgent"
        try:
            intake = s.case_create(actor=actor, **kw)
        except CityopsError as exc:
            self.stats[f"refused:{exc.code}"] += 1
            return
        self.stats["reported"] += 1
        case = intake.case
        if kw["source"] == "field" and self.rng.random() < 0.12:
            s.case_photo_add(case=case, actor=actor, data=self.photo, filename="scene.jpg")
            self.later(now, 0.2, self.self_handle, case.pk, actor)
            return
        if intake.duplicates and self.rng.random() < 0.7:
            self.later(now, 0.3, self.merge, case.pk, intake.duplicates[0].pk)
            return
        self.later(now, 0.25, self.intake, case.pk)

    def self_handle(self, now, pk, actor) -> None:
        s.case_self_handle(case=self._case(pk), actor=actor, result="现场已处理")
        self.stats["self_handled"] += 1
        self.later(now, 0.5, self.close, pk)

    def merge(self, now, pk, into_pk) -> None:
        into = self._case(into_pk)
        if into.state in ("archived", "voided", "merged"):
            self.later(now, 0.1, self.intake, pk)
            return
        s.case_merge(case=self._case(pk), actor=self.pick(self.cast.operators), into=into)
        self.stats["merged"] += 1

    def intake(self, now, pk) -> None:
        case = self._case(pk)
        op = self.pick(self.cast.operators)
        roll = self.rng.random()
        if roll < 0.03:
            s.case_void_request(case=case, actor=op, reason="无效反映（模拟）")
            self.later(now, 0.5, self.void_decide, pk)
            return
        if roll < 0.08 and case.state == "reported":
            s.case_ask_check(case=case, actor=op)
            self.later(now, 0.7, self.check, pk)
            return
        s.case_register(case=case, actor=op)
        if self.rng.random() < 0.12 and case.community_code:
            self.later(now, 0.5, self.claim, pk)
        else:
            self.later(now, 0.3, self.dispatch, pk)

    def void_decide(self, now, pk) -> None:
        s.case_void_decide(case=self._case(pk), actor=self.cast.shift_leads[0], approve=self.rng.random() < 0.8)
        case = self._case(pk)
        if case.state == "registered":
            self.later(now, 0.3, self.dispatch, pk)

    def check(self, now, pk) -> None:
        case = self._case(pk)
        s.case_check(case=case, actor=self.cast.grid_workers[case.district_code], found=True, note="现场属实")
        self.later(now, 0.2, self.intake, pk)

    # Tiered handling (workflow "Four levels"): a community or street claims what waits at its level and handles
    # it or escalates it with a reason; a district's command centre dispatches what waits at the district to its
    # bureaus and streets, or escalates it to the city.
    ESCALATION_REASONS = {
        "community": "社区力量不足，上报街道（模拟）",
        "street": "涉及多个部门，街道无法协调，上报区级（模拟）",
        "district": "需市级部门处置，上报市级（模拟）",
    }

    def claim(self, now, pk) -> None:
        case = self._case(pk)
        code = case.community_code if case.level == "community" else case.street_code
        staff = self.cast.staff_for(code) if case.level in ("community", "street") else None
        if staff is None or case.state != "registered":
            self.later(now, 0.1, self.dispatch, pk)
            return
        s.case_claim(case=case, actor=staff)
        self.stats[f"claimed:{case.level}"] += 1
        if self.rng.random() < 0.35:
            self.later(now, 1, self.escalate, pk, staff)
        else:
            self.later(now, 3, self.handle_local, pk, staff)

    def escalate(self, now, pk, actor) -> None:
        case = self._case(pk)
        s.case_escalate(case=case, actor=actor, reason=self.ESCALATION_REASONS[case.level])
        self.stats[f"escalated:{case.level}"] += 1
        if case.level == "community":
            self.later(now, 0.5, self.claim, pk)  # the street takes it
        else:
            self.later(now, 0.3, self.dispatch, pk)  # the district's or the city's command centre

    def dispatcher_for(self, case: Case):
        """The command centre in charge: the district's for a case waiting at the district level or dispatched by
        it, the city's otherwise."""
        waiting = case.state in ("registered", "returned")
        if (case.level if waiting else case.dispatched_level) == "district":
            return self.cast.district_dispatcher(case.district_code)
        return self.pick(self.cast.dispatchers)

    def handle_local(self, now, pk, staff) -> None:
        case = self._case(pk)
        s.case_handle(case=case, actor=staff, result=f"{'社区' if case.level == 'community' else '街道'}组织处置完毕（模拟）")
        self.later(now, 0.6, self.verify, pk)

    def district_dispatch(self, now, case: Case, dispatcher) -> None:
        """区级联: to the district's bureau for the proposed department (else any of its bureaus) or, now and then,
        to the case's street; or up to the city."""
        if case.state == "registered" and self.rng.random() < 0.25:
            self.escalate(now, case.pk, dispatcher)
            return
        units = list(OrgUnit.objects.filter(kind="department", region_code=case.district_code).order_by("code"))
        proposed = case.proposed_department.code if case.proposed_department_id else ""
        lead = next((u for u in units if u.code.startswith(f"{proposed}-")), None) if proposed else None
        if lead is None or self.rng.random() < 0.2:
            lead = OrgUnit.objects.filter(code=case.street_code, kind="street").first() or lead
        if lead is None and units:
            lead = self.pick(units)
        if lead is None:
            return
        s.case_dispatch(case=case, actor=dispatcher, department=lead.code)
        self.stats["dispatched:district"] += 1
        self.later(now, 0.5, self.accept, case.pk)

    def dispatch(self, now, pk) -> None:
        case = self._case(pk)
        if case.state not in ("registered", "returned"):
            return
        if case.level == "street":
            self.claim(now, pk)
            return
        if case.level == "district":
            dispatcher = self.cast.district_dispatcher(case.district_code)
            if dispatcher is not None:
                self.district_dispatch(now, case, dispatcher)
            return
        dept = case.proposed_department.code if case.proposed_department_id else self.pick(list(self.cast.handlers))
        if case.returns == 0 and self.rng.random() < 0.06:
            dept = self.pick([d for d in self.cast.handlers if d != dept])  # a wrong dispatch
        assisting = []
        if self.rng.random() < 0.15:
            assisting = [self.pick([d for d in self.cast.handlers if d != dept])]
        s.case_dispatch(case=case, actor=self.pick(self.cast.dispatchers), department=dept, assisting=assisting)
        self.stats["dispatched"] += 1
        self.later(now, 0.5, self.accept, pk)

    def accept(self, now, pk) -> None:
        case = self._case(pk)
        handler = self.cast.member_of(case.lead_department)
        if handler is None:
            return
        # A wrong dispatch of the city's (a district dispatches to its own bureau, not to the proposal).
        wrong = (case.dispatched_level == "city" and case.proposed_department_id
                 and case.lead_department_id != case.proposed_department_id)
        if wrong and case.returns < 1:
            s.case_return(case=case, actor=handler, reason="不属于本部门职责（模拟）")
            self.stats["returned"] += 1
            self.later(now, 0.4, self.redispatch, pk)
            return
        s.case_accept(case=case, actor=handler)
        for task in case.tasks.filter(state="open").select_related("department"):
            helper = self.cast.handlers.get(task.department.code)
            if helper:
                self.later(now, handle_limit_hours(case) * 0.5, self.task_done, task.pk, helper)
        limit = handle_limit_hours(case)
        # Extensions and suspensions are a department's requests (a street office handles or escalates).
        roll = self.rng.random() if case.lead_department.kind == "department" else 1.0
        if roll < 0.08:
            self.later(now, limit * 0.4, self.extend, pk, handler)
        elif roll < 0.12:
            self.later(now, limit * 0.3, self.suspend, pk, handler)
        else:
            # Most finish well inside the limit; a tail runs over (overdue).
            factor = 1.6 if self.rng.random() < 0.12 else 0.55
            self.later(now, limit * factor, self.handle, pk, handler, spread=0.4)

    def redispatch(self, now, pk) -> None:
        case = self._case(pk)
        if self.rng.random() < 0.7:
            self.dispatch(now, pk)
        else:
            s.case_return_approve(case=case, actor=self.dispatcher_for(case))
            self.later(now, 0.2, self.dispatch, pk)

    def task_done(self, now, task_pk, helper) -> None:
        from cityops.cases.models import CaseTask

        task = CaseTask.objects.get(pk=task_pk)
        if task.state == "open":
            s.task_done(task=task, actor=helper, result="协办部分完成")

    def extend(self, now, pk, handler) -> None:
        case = self._case(pk)
        limit = handle_limit_hours(case)
        s.case_extend_request(case=case, actor=handler, extra_hours=max(1.0, limit / 2), reason="需协调产权单位（模拟）")
        s.case_extend_decide(case=self._case(pk), actor=self.dispatcher_for(case), approve=self.rng.random() < 0.85)
        self.later(now, limit * 0.9, self.handle, pk, handler)

    def suspend(self, now, pk, handler) -> None:
        s.case_suspend_request(case=self._case(pk), actor=handler, reason="等待天气好转（模拟）")
        s.case_suspend_decide(case=self._case(pk), actor=self.dispatcher_for(self._case(pk)), approve=True)
        self.later(now, 8, self.resume, pk, handler)

    def resume(self, now, pk, handler) -> None:
        s.case_resume(case=self._case(pk), actor=self.dispatcher_for(self._case(pk)))
        self.later(now, handle_limit_hours(self._case(pk)) * 0.5, self.handle, pk, handler)

    def handle(self, now, pk, handler) -> None:
        case = self._case(pk)
        if case.state != "accepted":
            return
        for task in case.tasks.filter(state="open"):
            s.task_release(task=task, actor=handler, reason="主办已解决（模拟）")
        s.case_handle(case=case, actor=handler, result="已处置（模拟）")
        self.stats["handled"] += 1
        self.later(now, 0.6, self.verify, pk)

    def verify(self, now, pk) -> None:
        case = self._case(pk)
        worker = self.cast.grid_workers[case.district_code]
        if self.rng.random() < 0.1 and case.reworks < 2:
            s.case_verify(case=case, actor=worker, passed=False, note="复查仍未解决（模拟）")
            self.stats["reworked"] += 1
            handler = self.cast.member_of(case.lead_department)
            self.later(now, handle_limit_hours(case) * 0.5, self.handle, pk, handler)
            return
        s.case_verify(case=case, actor=worker, passed=True)
        self.later(now, 0.4, self.close, pk)

    def close(self, now, pk) -> None:
        s.case_close(case=self._case(pk), actor=self.cast.shift_leads[0])
        self.stats["closed"] += 1
        self.later(now, 6, self.follow_up, pk)

    def follow_up(self, now, pk) -> None:
        op = self.pick(self.cast.operators)
        satisfied = self.rng.random() < 0.92
        case = s.case_follow_up(case=self._case(pk), actor=op, satisfied=satisfied, note="" if satisfied else "仍不满意（模拟）")
        self.stats["archived" if satisfied else "reopened"] += 1
        if not satisfied:
            handler = self.cast.member_of(case.lead_department)
            if handler is not None:
                self.later(now, handle_limit_hours(case) * 0.5, self.handle, pk, handler)


def simulate(*, hours: float, rate: float, seed: int = 1, start: datetime | None = None) -> Counter:
    return Simulation(hours=hours, rate=rate, seed=seed, start=start).run()
