import importlib.util

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from cityops.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("cityops.accounts.urls")),
]

# Each domain app with web pages has urls.py; mounted at its own prefix.
WEB_APPS = [
    ("geo/", "cityops.geo.urls"),
    ("cases/supervision/", "cityops.cases.supervision.urls"),  # before cases/<code>/
    ("cases/", "cityops.cases.urls"),
    ("hotline/", "cityops.hotline.urls"),
    ("open311/", "cityops.open311.urls"),
    ("portal/", "cityops.portal.urls"),
    ("iot/", "cityops.iot.urls"),
    ("", "cityops.core.urls"),
]
# A domain app not listed above contributes its pages through its AppConfig: `url_prefix = "permits/"`.
WEB_APPS[-1:-1] = [(config.url_prefix, f"{config.name}.urls") for config in apps.get_app_configs()
                   if getattr(config, "url_prefix", None) and f"{config.name}.urls" not in dict(WEB_APPS).values()]
for prefix, module_name in WEB_APPS:
    if importlib.util.find_spec(module_name) is not None:
        urlpatterns.append(path(prefix, include(module_name)))

if not settings.PRODUCTION:
    # Media (case photos) are served by the app in development; production uses the web server.
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))

handler400 = "cityops.core.views.bad_request"
handler403 = "cityops.core.views.permission_denied"
handler404 = "cityops.core.views.page_not_found"
handler500 = "cityops.core.views.server_error"
