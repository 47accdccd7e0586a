"""Simulated dispute traffic (issue 14 "cityops simulate also produces disputes"): new disputes from every channel
at each centre of the demo, and the centre's staff, mediators and the police liaison acting on them with realistic
delays, through the real services and routing.

It runs inside the city's simulation (cases.simulation.Simulation): the DisputesConfig's `simulate(sim)` hook
schedules these events on the same heap, so they share its simulated clock, its hourly overdue sweep, its
window (events due after it are left undone: disputes stay open, as in a real centre at any moment) and its
statistics (keys `disputes:<what>`). Without a centre (no disputes demo) nothing is scheduled.

Each centre also runs a screening campaign (排查化解行动) over its district for the window — its running one, or
one the simulation opens — and the district's grid worker knocks on doors (天天敲门) through it: most visits find
nothing, some settle a quarrel on the spot, some find a dispute, which enters intake with the campaign's tag.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from cityops.accounts.models import OrgUnit, User
from cityops.core import roles
from cityops.core.workflow import transition
from cityops.disputes import campaigns, routing, services
from cityops.disputes.demo import sign_all
from cityops.disputes.models import Campaign, Dispute, Referrer, Visit

DISPUTES_PER_CASE = 0.15  # about one dispute for every seven city reports
MIN_RATE = 0.5  # disputes per hour at the least

SOURCES = {"walk_in": 35, "hotline": 20, "portal": 12, "screening": 10, "court": 10, "police": 8, "petition": 5}
KINDS = {"neighbour": 30, "family": 12, "property": 15, "labour": 12, "consumer": 9, "land": 5, "medical": 5,
         "traffic": 7, "other": 5}
TITLES = {
    "neighbour": ["楼上漏水殃及楼下", "楼道堆物引发争执", "装修噪音扰民", "相邻通道通行纠纷"],
    "family": ["赡养老人费用分担", "离婚后子女探视", "遗产分割争议"],
    "property": ["物业费与服务质量争议", "小区停车位收费纠纷", "电梯维修费用分摊"],
    "labour": ["工地农民工工资拖欠", "餐饮店员工工资结算", "解除劳动合同补偿争议"],
    "consumer": ["预付卡退费纠纷", "网购商品退货争议", "装修质量纠纷"],
    "land": ["宅基地边界争议", "征收补偿款分配纠纷"],
    "medical": ["诊疗费用与疗效争议", "手术后遗症赔偿纠纷"],
    "traffic": ["电动车与行人碰撞赔偿", "小区内刮擦车辆赔偿"],
    "other": ["借款归还纠纷", "合伙经营分账争议"],
}
VISITS_PER_HOUR = 2.0  # door-knocking visits per centre's district, in office hours and out of them alike
FINDINGS = {Visit.Outcome.NOTHING: 80, Visit.Outcome.RESOLVED: 12, Visit.Outcome.DISPUTE: 8}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "秀兰", "志强", "丽娟", "海涛", "春梅", "国华", "桂英", "伟", "敏", "磊", "静"]


class DisputeTraffic:
    """The dispute events of one simulation (`sim`: cases.simulation.Simulation)."""

    def __init__(self, sim):
        self.sim = sim
        self.rng = sim.rng
        self.centres = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.CENTRE, active=True).exclude(region_code=""))
        self.grids = {c.pk: [g for g in sim.grids if g.code.startswith(c.region_code)] for c in self.centres}
        self.centres = [c for c in self.centres if self.grids[c.pk]]
        self.staff = {c.pk: self._member(f"sim_centre_{c.code.lower()}", f"模拟{c.name}工作人员",
                                         roles.CENTRE_STAFF, c) for c in self.centres}
        self.police = {c.pk: self._member(f"sim_police_{c.code.lower()}", f"模拟{c.name}公安联络员",
                                          roles.POLICE_LIAISON, c) for c in self.centres}
        self.referrers = {(r.centre_id, r.kind): r for r in Referrer.objects.filter(active=True)
                          .select_related("user")}
        self.serial = 0
        self.campaigns: dict[int, int] = {}  # centre → its screening campaign in this simulation
        # The visits draw from their own stream, so that adding them leaves the rest of the traffic as it was.
        self.visit_rng = random.Random(f"door-knocking:{sim.start.isoformat()}:{sim.rate}")

    @staticmethod
    def _member(username: str, display: str, role: str, unit: OrgUnit) -> User:
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": display})
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(Group.objects.get_or_create(name=role)[0])
            user.org_units.add(unit)
        return User.objects.get(pk=user.pk)

    def count(self, what: str) -> None:
        self.sim.stats[f"disputes:{what}"] += 1

    def later(self, now, mean_wh: float, fn, *args, spread: float = 0.7) -> None:
        self.sim.later(now, mean_wh, fn, *args, spread=spread)

    def pick(self, weights: dict) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _load(self, pk: int) -> Dispute:
        return Dispute.objects.select_related("centre", "committee", "mediator").get(pk=pk)

    # --- scheduling --------------------------------------------------------------------------------------------
    def schedule(self) -> None:
        if not self.centres:
            return
        rate = max(MIN_RATE, self.sim.rate * DISPUTES_PER_CASE)
        t = self.sim.start
        while True:
            t += timedelta(hours=self.rng.expovariate(rate))
            if t > self.sim.end:
                break
            self.sim.at(t, self.register, self.pick_centre())
        for centre in self.centres:
            if self.sim.cast.grid_workers.get(centre.region_code[:6]) is None:
                continue
            self.sim.at(self.sim.start, self.open_campaign, centre.pk)
            t = self.sim.start
            while True:
                t += timedelta(hours=self.visit_rng.expovariate(VISITS_PER_HOUR))
                if t > self.sim.end:
                    break
                self.sim.at(t, self.visit, centre.pk)

    def pick_centre(self) -> int:
        return self.centres[self.rng.randrange(len(self.centres))].pk

    # --- events ------------------------------------------------------------------------------------------------
    def _parties(self) -> list[dict]:
        def name():
            return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

        phone = f"139{self.rng.randrange(10**8):08d}"
        return [{"side": "applicant", "kind": "person", "name": name(), "phone": phone},
                {"side": "respondent", "kind": "person", "name": name()}]

    def register(self, now, centre_pk: int) -> None:
        centre = next(c for c in self.centres if c.pk == centre_pk)
        grid = self.pick_list(self.grids[centre_pk])
        source, kind = self.pick(SOURCES), self.pick(KINDS)
        cast = self.sim.cast
        actor = {"walk_in": self.staff[centre_pk], "hotline": self.pick_list(cast.operators),
                 "portal": self.pick_list(cast.residents),
                 "screening": cast.grid_workers.get(grid.code[:6])}.get(source)
        extra = {}
        if source in ("court", "police", "petition"):
            referrer = self.referrers.get((centre_pk, source))
            if referrer is None:  # no referring body of that kind at this centre: its staff register the referral
                actor = self.staff[centre_pk]
            else:
                self.serial += 1
                actor = referrer.user
                extra = {"referrer": referrer,
                         "external_ref": f"SIM-{now:%Y%m%d%H%M%S}-{self.serial}-{self.rng.randrange(10**6)}"}
            if source == "court" and self.rng.random() < 0.6:
                extra["entrustment"] = self.rng.choice(["court_15", "court_15", "court_7"])
        if actor is None:
            actor, source = self.staff[centre_pk], "walk_in"
        if self.rng.random() < 0.3:
            extra["amount"] = str(self.rng.choice([800, 2500, 6000, 12000, 30000, 85000]))
        title = self.rng.choice(TITLES[kind])
        d = services.register_dispute(
            actor=actor, source=source, title=title, description=f"{title}，双方协商未果，申请调解。（模拟）",
            kind=kind, parties=self._parties(), lon=grid.centroid_lon + self.rng.uniform(-0.0003, 0.0003),
            lat=grid.centroid_lat + self.rng.uniform(-0.0003, 0.0003), centre=centre,
            risk_level="medium" if self.rng.random() < 0.1 else "low", **extra)
        self.count("registered")
        if self.rng.random() < 0.04:
            self.later(now, 1.0, self.refuse, d.pk)
        else:
            self.later(now, 0.8, self.accept, d.pk)

    # --- screening campaign and door-knocking visits -----------------------------------------------------------
    def open_campaign(self, now, centre_pk: int) -> None:
        """The centre's campaign running today over its district, or a new one for the simulated window."""
        centre = next(c for c in self.centres if c.pk == centre_pk)
        today = timezone.localdate(now)
        district = centre.region_code[:6]
        running = next((c for c in Campaign.objects.filter(starts_on__lte=today, ends_on__gte=today).order_by("pk")
                        if district in c.region_codes), None)
        if running is None:
            running = campaigns.campaign_create(
                actor=self.staff[centre_pk], name=f"{centre.name}矛盾纠纷排查化解行动（模拟）", starts_on=today,
                ends_on=timezone.localdate(self.sim.end) + timedelta(days=7), region_codes=[district],
                goal="网格员天天敲门，矛盾纠纷早发现早化解（模拟）")
            self.count("campaign_opened")
        self.campaigns[centre_pk] = running.pk

    def visit(self, now, centre_pk: int) -> None:
        campaign = self.campaigns.get(centre_pk)
        worker = self.sim.cast.grid_workers.get(next(c for c in self.centres if c.pk == centre_pk).region_code[:6])
        if campaign is None or worker is None:
            return
        rng = self.visit_rng
        grid = self.grids[centre_pk][rng.randrange(len(self.grids[centre_pk]))]
        outcome = rng.choices(list(FINDINGS), weights=list(FINDINGS.values()))[0]
        extra = {}
        if outcome == Visit.Outcome.DISPUTE:
            kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
            names = [rng.choice(SURNAMES) + rng.choice(GIVEN) for _side in range(2)]
            extra["dispute"] = {"kind": kind, "title": rng.choice(TITLES[kind]), "parties": [
                {"side": "applicant", "kind": "person", "name": names[0], "phone": f"139{rng.randrange(10**8):08d}"},
                {"side": "respondent", "kind": "person", "name": names[1]}]}
        logged = campaigns.visit_log(
            actor=worker, client_id=uuid.UUID(int=rng.getrandbits(128)), campaign_id=campaign,
            place=f"{grid.name} {rng.randrange(1, 30)} 栋 {rng.randrange(1, 7)}0{rng.randrange(1, 5)}",
            lon=grid.centroid_lon, lat=grid.centroid_lat, people_met="住户本人", outcome=outcome,
            findings={"nothing": "家庭和睦，邻里无矛盾（模拟）", "resolved": "邻里口角，当场劝解（模拟）",
                      "dispute": "反映矛盾纠纷，已登记调解（模拟）"}[outcome], visited_at=now, **extra)
        self.count("visits")
        if logged.visit.dispute_id:
            self.count("screening_found")
            self.later(now, 0.8, self.accept, logged.visit.dispute_id)

    def pick_list(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def refuse(self, now, pk: int) -> None:
        d = self._load(pk)
        actor = d.mediator if d.state == "mediating" else self.staff[d.centre_id]
        services.refuse(dispute=d, actor=actor, party_id=d.parties.filter(side="respondent").first().pk,
                        reason="被申请方明确表示不同意调解（模拟）")
        self.count("refused")

    def accept(self, now, pk: int) -> None:
        d = self._load(pk)
        suggestion = routing.suggest(d)
        if suggestion.committee is None:
            self.count("unroutable")
            return
        services.accept(dispute=d, actor=self.staff[d.centre_id], channel=suggestion.channel,
                        committee_id=suggestion.committee.pk, note="按分流建议受理（模拟）")
        self.count("accepted")
        self.later(now, 3.0, self.assign, pk)

    def assign(self, now, pk: int) -> None:
        d = self._load(pk)
        mediator = routing.suggest_mediator(d.committee, d)
        if mediator is None:  # a committee without mediators: the simulation gives it one
            mediator = self._member(f"sim_mediator_{d.committee.code.lower()}", f"模拟{d.committee.name}调解员",
                                    roles.MEDIATOR, d.committee)
        services.assign(dispute=d, actor=self.staff[d.centre_id], mediator_id=mediator.pk)
        self.count("assigned")
        self.later(now, 2.0, self.start, pk)

    def start(self, now, pk: int) -> None:
        d = self._load(pk)
        transition(d, "start", d.mediator, note="召集双方开始调解（模拟）")
        self.count("mediating")
        self.later(now, 8.0, self.mediate, pk, spread=0.9)  # about a working day; a tail of weeks

    def mediate(self, now, pk: int) -> None:
        d = self._load(pk)
        roll = self.rng.random()
        if roll < 0.04:
            services.escalate(dispute=d, actor=d.mediator, reason="一方情绪激动并扬言报复，可能激化（模拟）")
            self.count("escalated")
            self.later(now, 2.0, self.after_escalation, pk)
        elif roll < 0.08:
            self.refuse(now, pk)
        elif roll < 0.14:
            consents = [{"party_id": p.pk, "method": "written"} for p in d.parties.all()]
            services.extend(dispute=d, actor=d.mediator, extra_days=15, consents=consents,
                            reason="双方同意延长调解期限以补充证据（模拟）")
            self.count("extended")
            self.later(now, 14.0, self.mediate, pk, spread=0.9)
        elif roll < 0.30:
            services.terminate(dispute=d, actor=d.mediator, reason=self.rng.choice(
                ["no_agreement", "no_agreement", "party_absent", "litigation_started"]), detail="")
            self.count("terminated")
            self.later(now, 3.0, self.refer, pk)
        else:
            services.agree(dispute=d, actor=d.mediator, facts=f"{d.title}，经调解查明事实。",
                           terms="双方自愿达成协议，被申请方按期支付约定款项，双方不再就此事争执。",
                           performance_method=self.rng.choice(["一次性当面支付", "银行转账", "分两期支付"]),
                           performance_deadline=timezone.localdate() + timedelta(days=self.rng.choice([7, 15, 30])))
            self.count("agreed")
            if self.rng.random() < 0.35:
                self.later(now, 6.0, self.request_confirmation, pk)
            else:
                self.later(now, 16.0, self.perform_or_breach, pk)

    def request_confirmation(self, now, pk: int) -> None:
        d = self._load(pk)
        sign_all(d, d.mediator)  # both parties sign the agreement on the tablet first
        services.request_confirmation(dispute=d, actor=d.mediator, court="区人民法院")
        self.count("confirmation_requested")
        self.later(now, 12.0, self.court_decides, pk)

    def court_decides(self, now, pk: int) -> None:
        d = self._load(pk)
        staff = self.staff[d.centre_id]
        if self.rng.random() < 0.9:
            transition(d, "confirm", staff, note="法院裁定调解协议有效（模拟）")
            self.count("confirmed")
            self.later(now, 16.0, self.perform_or_enforce, pk)
        else:
            services.note_reason(dispute=d, actor=staff, reason="协议部分内容不明确（模拟）",
                                 action="reject_confirmation")
            self.count("not_confirmed")
            self.later(now, 4.0, self.remediate, pk)

    def remediate(self, now, pk: int) -> None:
        d = self._load(pk)
        transition(d, "remediate", d.mediator, note="重新组织调解（模拟）")
        self.later(now, 10.0, self.mediate, pk)

    def perform_or_breach(self, now, pk: int) -> None:
        d = self._load(pk)
        if self.rng.random() < 0.9:
            transition(d, "perform", d.mediator, note="双方确认协议已履行（模拟）")
            self.count("performed")
            self.later(now, 24.0, self.follow_up, pk)
        else:
            services.note_reason(dispute=d, actor=d.mediator, reason="被申请方未按期履行，已告知诉讼途径（模拟）",
                                 action="breach")
            self.count("breached")

    def perform_or_enforce(self, now, pk: int) -> None:
        d = self._load(pk)
        if self.rng.random() < 0.85:
            transition(d, "perform", d.mediator, note="双方确认协议已履行（模拟）")
            self.count("performed")
            self.later(now, 24.0, self.follow_up, pk)
        else:
            services.note_reason(dispute=d, actor=d.mediator, reason="被申请方拒不履行，申请强制执行（模拟）",
                                 action="enforce")
            self.count("enforcement")

    def follow_up(self, now, pk: int) -> None:
        d = self._load(pk)
        satisfied = self.rng.random() < 0.9
        services.follow_up(dispute=d, actor=d.mediator, satisfied=satisfied,
                           result="回访：双方关系缓和（模拟）" if satisfied else "回访：申请方仍有意见（模拟）")
        self.count("closed")

    def refer(self, now, pk: int) -> None:
        d = self._load(pk)
        services.refer(dispute=d, actor=d.mediator, routes=[self.rng.choice(["court", "arbitration", "administrative"])],
                       informed_how="书面告知并当面说明（模拟）")
        self.count("referred")

    def after_escalation(self, now, pk: int) -> None:
        d = self._load(pk)
        police = self.police[d.centre_id]
        if self.rng.random() < 0.5:
            services.note_reason(dispute=d, actor=police, reason="已移交辖区派出所处置（模拟）", action="hand_over")
            self.count("handed_over")
        else:
            services.note_reason(dispute=d, actor=police, reason="民警已介入，风险可控，恢复调解（模拟）",
                                 action="resume")
            self.count("resumed")
            self.later(now, 2.0, self.assign, pk)


def schedule(sim) -> None:
    """The DisputesConfig's `simulate(sim)` hook: schedule the dispute traffic of the simulated window."""
    DisputeTraffic(sim).schedule()
