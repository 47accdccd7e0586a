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

from django.contrib.auth.models import Group
from django.utils import timezone

from cityops.accounts.models import OrgUnit, User
from cityops.cases import services as s
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
    region_staff: dict = field(default_factory=dict)  # community code → user

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
        return cls(
            operators=[user(f"sim_operator{i}", roles.OPERATOR, f"模拟受理员{i}") for i in (1, 2)],
            shift_leads=[user("sim_shiftlead", roles.SHIFT_LEAD, "模拟值班长")],
            dispatchers=[user(f"sim_dispatcher{i}", roles.DISPATCHER, f"模拟派遣员{i}") for i in (1, 2)],
            handlers={d: user(f"sim_dept_{d.lower()}", roles.DEPT_HANDLER, f"模拟{d}处置员", units=[d]) for d in depts},
            grid_workers={d: user(f"sim_grid_{d}", roles.GRID_WORKER, f"模拟网格员{d}", regions=[d]) for d in districts},
            residents=[user(f"sim_resident{i}", roles.RESIDENT, f"模拟市民{i}") for i in range(1, 6)],
        )

    def staff_for(self, community_code: str):
        if community_code not in self.region_staff:
            unit = OrgUnit.objects.filter(code=community_code, kind="community").first()
            if unit is None:
                return None
            u, created = User.objects.get_or_create(username=f"sim_comm_{community_code}",
                                                    defaults={"first_name": f"模拟社区{unit.name}"})
            if created:
                u.set_unusable_password()
                u.region_codes = [community_code]
                u.save()
                u.groups.add(Group.objects.get_or_create(name=roles.REGION_STAFF)[0])
                u.org_units.add(unit)
            self.region_staff[community_code] = User.objects.get(pk=u.pk)
        return self.region_staff[community_code]


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
        kw = {"category": cat.code, "lon": lon, "lat": lat, "description": f"{cat.name_zh}（模拟）"}
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
        if self.rng.random() < 0.05 and case.community_code:
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

    def claim(self, now, pk) -> None:
        case = self._case(pk)
        staff = self.cast.staff_for(case.community_code)
        if staff is None or case.state != "registered":
            self.later(now, 0.1, self.dispatch, pk)
            return
        s.case_claim(case=case, actor=staff)
        if self.rng.random() < 0.3:
            self.later(now, 1, self.escalate, pk, staff)
        else:
            self.later(now, 3, self.handle_local, pk, staff)

    def escalate(self, now, pk, staff) -> None:
        s.case_escalate(case=self._case(pk), actor=staff, reason="社区力量不足，上报街道（模拟）")
        self.later(now, 0.3, self.dispatch, pk)

    def handle_local(self, now, pk, staff) -> None:
        s.case_handle(case=self._case(pk), actor=staff, result="社区组织处置完毕")
        self.later(now, 0.6, self.verify, pk)

    def dispatch(self, now, pk) -> None:
        case = self._case(pk)
        if case.state not in ("registered", "returned"):
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
        handler = self.cast.handlers.get(case.lead_department.code) if case.lead_department_id else None
        if handler is None:
            return
        wrong = case.proposed_department_id and case.lead_department_id != case.proposed_department_id
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
        roll = self.rng.random()
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
            s.case_return_approve(case=case, actor=self.pick(self.cast.dispatchers))
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
        s.case_extend_decide(case=self._case(pk), actor=self.pick(self.cast.dispatchers), approve=self.rng.random() < 0.85)
        self.later(now, limit * 0.9, self.handle, pk, handler)

    def suspend(self, now, pk, handler) -> None:
        s.case_suspend_request(case=self._case(pk), actor=handler, reason="等待天气好转（模拟）")
        dispatcher = self.pick(self.cast.dispatchers)
        s.case_suspend_decide(case=self._case(pk), actor=dispatcher, approve=True)
        self.later(now, 8, self.resume, pk, handler)

    def resume(self, now, pk, handler) -> None:
        s.case_resume(case=self._case(pk), actor=self.pick(self.cast.dispatchers))
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
            handler = self.cast.handlers.get(case.lead_department.code) if case.lead_department_id else None
            if handler is None:
                handler = self.cast.staff_for(case.community_code)
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
            handler = self.cast.handlers.get(case.lead_department.code) if case.lead_department_id else None
            if handler is not None:
                self.later(now, handle_limit_hours(case) * 0.5, self.handle, pk, handler)


def simulate(*, hours: float, rate: float, seed: int = 1, start: datetime | None = None) -> Counter:
    return Simulation(hours=hours, rate=rate, seed=seed, start=start).run()
