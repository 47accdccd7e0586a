"""The disputes pages, mounted at /disputes/. Each part of the app has its own urls module, owned by whoever
builds that part, so that they can be built side by side; a part not written yet is left out."""

import importlib.util

from django.urls import include, path

PARTS = [
    ("campaigns/visit/", "cityops.disputes.visit_offline"),  # the visit page's service worker (works offline)
    ("campaigns/", "cityops.disputes.campaign_urls"),  # 排查化解行动 and 天天敲门 visits
    ("evaluation/", "cityops.disputes.evaluation_urls"),  # 调解成功率, 按期调解率 … per centre, committee, mediator
    ("documents/", "cityops.disputes.document_urls"),  # agreement, judicial-confirmation application, termination notice
    ("", "cityops.disputes.dispute_urls"),  # desk, list, detail, actions, resident's application and tracking
]

urlpatterns = [path(prefix, include(module)) for prefix, module in PARTS if importlib.util.find_spec(module)]
