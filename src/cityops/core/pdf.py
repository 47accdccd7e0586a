"""Documents as PDF: a Django template rendered by WeasyPrint, with a Chinese font embedded.

`render_pdf("disputes/pdf/agreement.html", {...})` returns the PDF's bytes. Templates extend `pdf/base.html`
(A4, margins, page numbers, a title block, tables) whose font is the CJK font of Debian's fonts-noto-cjk,
found through fontconfig (`make fonts` installs it; the system check cityops.W011 warns when it is missing).

WeasyPrint never reaches the network here: its URL fetcher serves our static files (`{% static %}` URLs, found
by the staticfiles finders) and inline `data:` URLs (a signature image), and refuses every other URL, so a
template or a user's text cannot make the server fetch anything.
"""

import base64
import functools
import mimetypes
import shutil
import subprocess
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string

# Templates are rendered with this base URL, so `{% static %}`'s "/static/..." resolves to BASE_URL + "static/...".
# The host is reserved (RFC 6761 .invalid) and never contacted: the fetcher answers from disk or refuses.
BASE_URL = "https://cityops.invalid/"

CJK_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")


def _static_path(url: str) -> str | None:
    """The file on disk for a static URL under BASE_URL, or None when the URL is anything else."""
    parts = urlsplit(url)
    prefix = urlsplit(BASE_URL + settings.STATIC_URL.lstrip("/"))
    if (parts.scheme, parts.netloc) != (prefix.scheme, prefix.netloc) or not parts.path.startswith(prefix.path):
        return None
    relative = unquote(parts.path[len(prefix.path) :])
    if not relative or "\x00" in relative:
        return None
    try:
        return finders.find(relative)
    except SuspiciousFileOperation:  # a path that leaves the static directories ("../")
        return None


@functools.cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves our static files and data: URLs; refuses the rest (no network, no file:// reads)."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return _data_url(url, URLFetcherResponse)
            path = _static_path(url)
            if path is None:
                raise ValueError(f"cityops PDF: refused to fetch {url[:200]!r} (only static files are served)")
            with open(path, "rb") as f:
                body = f.read()
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body, {"Content-Type": content_type})

    return StaticOnlyFetcher


def _data_url(url: str, response_class):
    header, _, payload = url[len("data:") :].partition(",")
    fields = header.split(";")
    content_type = fields[0] or "text/plain"
    body = base64.b64decode(payload) if "base64" in fields[1:] else unquote(payload).encode()
    return response_class(url, body, {"Content-Type": content_type})


def data_url(content: bytes, content_type: str) -> str:
    """An inline `data:` URL for an image the template shows (e.g. a signature), fetched by nobody."""
    return f"data:{content_type};base64,{base64.b64encode(content).decode('ascii')}"


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render the Django template `template_name` with `context` and return the PDF's bytes."""
    # WeasyPrint loads Pango and its fonts when imported (seconds on a busy machine): import it on first use,
    # so that commands and pages that never make a PDF do not pay for it.
    import weasyprint

    html = render_to_string(template_name, context)
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher_class()())
    return document.write_pdf()


@functools.cache
def cjk_font_families() -> tuple[str, ...]:
    """The Noto CJK SC families fontconfig knows (empty when none is installed or fc-list is missing)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    try:
        out = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    names = {name.strip() for line in out.splitlines() for name in line.split(",")}
    return tuple(family for family in CJK_FAMILIES if family in names)
