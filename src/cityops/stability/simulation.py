"""Simulated public comments (`cityops simulate`): while a decision's consultation runs, the simulation's residents
comment on it now and then through the real service (stances drawn, the same rate limit), and the assessing
unit's staff moderate each comment a few working hours later. Scheduled on the city simulation's heap by
StabilityConfig.simulate(sim), so it shares its clock and window (cases.simulation.Simulation); without a decision
in consultation nothing is scheduled."""

from __future__ import annotations

from datetime import timedelta

from cityops.accounts.models import User
from cityops.core.errors import CityopsError
from cityops.stability import services
from cityops.stability import workflow as flow
from cityops.stability.models import Comment, Decision

HOURS_BETWEEN_COMMENTS = 8  # per decision, on average (calendar hours: residents comment in the evening too)
TEXTS = {
    "support": ["支持改造，希望早日实施", "老房子问题多，支持征收改造", "方案考虑周到，赞成"],
    "oppose": ["补偿标准偏低，建议提高", "过渡期太长，老人租房困难", "不同意撤并线路，换乘不便"],
    "neutral": ["希望公开安置房选址和户型", "建议施工期间限制夜间作业", "请说明商铺停业补偿办法"],
}


def schedule(sim) -> None:
    decisions = list(Decision.objects.filter(state="consultation", consultation_ends_on__isnull=False))
    residents = list(sim.cast.residents)
    if not decisions or not residents:
        return
    for decision in decisions:
        moderator = (User.objects.filter(org_units=decision.assessing_unit_id, groups__name__in=flow.UNIT_STAFF_ROLES)
                     .order_by("pk").first())
        end = min(sim.end, flow.consultation_end(decision.consultation_ends_on))
        t = max(sim.start, decision.consultation_opened_at or sim.start)
        while True:
            t += timedelta(hours=sim.rng.expovariate(1 / HOURS_BETWEEN_COMMENTS))
            if t >= end:
                break
            sim.at(t, _comment, sim, decision.pk, sim.pick(residents), moderator)


def _comment(now, sim, decision_id: int, resident, moderator) -> None:
    stance = sim.rng.choices(list(TEXTS), weights=[5, 3, 2])[0]
    try:
        comment = services.comment_submit(decision=Decision.objects.get(pk=decision_id), actor=resident,
                                            stance=stance, text=sim.pick(TEXTS[stance]))
    except CityopsError as exc:
        sim.stats[f"stability:refused:{exc.code}"] += 1
        return
    sim.stats["stability:comments"] += 1
    if moderator is not None:
        sim.later(now, 4, _moderate, sim, comment.pk, moderator)


def _moderate(now, sim, comment_id: int, moderator) -> None:
    comment = Comment.objects.select_related("decision").get(pk=comment_id)
    approve = sim.rng.random() < 0.9
    services.comment_moderate(comment=comment, actor=moderator, approve=approve,
                                note="" if approve else "与决策事项无关")
    sim.stats["stability:moderated"] += 1

