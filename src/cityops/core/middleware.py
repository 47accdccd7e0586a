from urllib.parse import urlsplit

from django.conf import settings


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: a strict Content-Security-Policy (everything is served locally,
    so nothing needs another origin; no inline script runs, so markup injected from data cannot run code even
    where escaping was missed) and a Permissions-Policy that only allows geolocation for "use my
    location" on report forms."""

    CSP = (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; font-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )

    def __init__(self, get_response):
        self.get_response = get_response
        self.csp = self.CSP
        if settings.CITYOPS_TILE_URL:
            # A city's own tile server is the one other origin images may come from. Leaflet's {s} is a subdomain
            # (a., b., c.): the policy allows them all.
            parts = urlsplit(settings.CITYOPS_TILE_URL.replace("{s}", "*"))
            origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
            if origin:
                self.csp = self.CSP.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {origin}")

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
        return response
