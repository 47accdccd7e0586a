from django.urls import re_path

from cityops.open311 import views

app_name = "open311"
FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"
urlpatterns = [
    # Discovery lives at a URL that does not change between versions; v2/ has it too.
    re_path(r"^discovery" + FMT, views.discovery, name="discovery_root"),
    re_path(r"^v2/discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^v2/services" + FMT, views.service_list, name="services"),
    re_path(r"^v2/services/(?P<code>[^/]+?)" + FMT, views.service_definition, name="service"),
    re_path(r"^v2/requests" + FMT, views.requests_, name="requests"),
    re_path(r"^v2/requests/(?P<code>[^/]+?)" + FMT, views.request_detail, name="request"),
    re_path(r"^v2/tokens/(?P<token>[^/]+?)" + FMT, views.token_detail, name="token"),
    re_path(r"^v2/servicerequestupdates" + FMT, views.service_request_updates, name="updates"),
]
