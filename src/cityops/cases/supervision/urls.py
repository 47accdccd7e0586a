"""/cases/supervision/: the queue, a unit's inbox, issuing from the case page, the actions on an order, and each
order's own page (core.pages: its state, deadline, timeline and the forms of the actions the user may take)."""

from django.urls import include, path

from cityops.cases.models import SupervisionOrder
from cityops.cases.supervision import selectors, views
from cityops.core import pages

urlpatterns = [
    path("", views.queue, name="supervision_queue"),
    path("inbox/", views.inbox, name="supervision_inbox"),
    path("issue/<str:code>/", views.issue, name="supervision_issue"),
    path("<int:pk>/act/<str:action>/", views.order_action, name="supervision_action"),
    path("orders/", include(pages.domain_urls(
        SupervisionOrder, scoped=lambda user: selectors.order_list(user=user), title="督办单", name="supervision_order",
        columns=[("case", "案件"), ("unit", "责任单位"), ("get_level_display", "督办级别"), ("reason", "督办事由"),
                 ("answer", "回复内容")]))),
]
