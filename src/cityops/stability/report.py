"""The assessment report (稳评报告) as PDF: the decision, the scope, the risk register, the consultation
(comments by stance, visits, hearings), the level and its consequence, the decision — rendered by
core.pdf.render_pdf from templates/stability/pdf/report.html."""

from __future__ import annotations

from django.utils import timezone

from cityops.stability import selectors
from cityops.stability import workflow as flow
from cityops.stability.models import Decision


def report_context(*, decision: Decision) -> dict:
    risks = list(decision.risks.select_related("owner_unit"))
    return {
        "title": "社会稳定风险评估报告",
        "d": decision,
        "region_name": selectors.regions_shown([decision])[decision.pk],
        "risks": risks,
        "by_dimension": [(label, [r for r in risks if r.dimension == code])
                         for code, label in decision.risks.model.Dimension.choices],
        "counts": selectors.stance_counts(decision=decision),
        "visits": list(decision.visits.all()),
        "hearings": list(decision.hearings.all()),
        "allowed": [flow.OUTCOMES[o] for o in flow.ALLOWED_OUTCOMES.get(decision.level, ())],
        "generated_at": timezone.localtime(),
    }


def report_pdf(*, decision: Decision) -> bytes:
    from cityops.core.pdf import render_pdf

    return render_pdf("stability/pdf/report.html", report_context(decision=decision))
