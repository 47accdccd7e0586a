"""The disputes API, mounted at /api/v1/disputes/. Each part of the app contributes its own router (see urls.py)."""

import importlib
import importlib.util

from ninja import Router

router = Router(tags=["disputes"])

PARTS = [
    ("/campaigns", "cityops.disputes.campaign_api"),
    ("/evaluation", "cityops.disputes.evaluation_api"),
    ("/documents", "cityops.disputes.document_api"),
    ("", "cityops.disputes.dispute_api"),
]

for prefix, module in PARTS:
    if importlib.util.find_spec(module):
        router.add_router(prefix, importlib.import_module(module).router)
