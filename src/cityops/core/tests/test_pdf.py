"""PDF documents (core.pdf.render_pdf): Chinese text a reader can extract, the CJK font embedded, page numbers,
no network ever (only our static files are read), and the system check for a missing CJK font."""

import http.server
import io
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from cityops.core import pdf
from cityops.core.checks import check_cjk_font

TEST_TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture(autouse=True)
def _test_templates(settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], TEST_TEMPLATES]}]


def render(**context):
    context = {"title": "人民调解协议书", "party": "张三丰", "facts": "楼上漏水\n损坏楼下吊顶", "pages": [1], **context}
    return PdfReader(io.BytesIO(pdf.render_pdf("pdf_test/sample.html", context)))


def fonts_of(reader):
    """(BaseFont, font descriptor) of every font the pages use; a Type0 font's descriptor is its descendant's."""
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor_owner = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            found.append((str(font["/BaseFont"]), descriptor_owner["/FontDescriptor"].get_object()))
    return found


def images_of(reader):
    names = []
    for page in reader.pages:
        xobjects = page["/Resources"].get("/XObject", {})
        names += [n for n, x in xobjects.items() if x.get_object().get("/Subtype") == "/Image"]
    return names


def test_chinese_text_is_extractable_and_the_cjk_font_is_embedded():
    reader = render()
    text = reader.pages[0].extract_text()
    assert "人民调解协议书" in text
    assert "张三丰" in text
    assert "损坏楼下吊顶" in text
    assert "（2026）汉阳调字第 0001 号" in text
    fonts = fonts_of(reader)
    assert fonts, "the page uses no font"
    assert any("CJK" in name for name, _ in fonts), [name for name, _ in fonts]
    for name, descriptor in fonts:
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, f"{name} is not embedded"


def test_pages_are_a4_and_numbered():
    reader = render(pages=range(1, 80))
    assert len(reader.pages) >= 2
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    last = len(reader.pages)
    assert f"第 1 页 / 共 {last} 页" in reader.pages[0].extract_text()
    assert f"第 {last} 页 / 共 {last} 页" in reader.pages[-1].extract_text()


def test_our_static_files_are_served():
    reader = render(static_image="leaflet/draw/images/layers.png")
    assert len(images_of(reader)) == 1


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write((TEST_TEMPLATES.parent.parent / "static" / "favicon.svg").read_bytes())

    def log_message(self, *args):
        pass


def test_nothing_is_fetched_from_outside(tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = tmp_path / "secret.png"
    local.write_bytes(Path(pdf.finders.find("leaflet/draw/images/layers.png")).read_bytes())
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        reader = render(
            outside=[f"{base}/image.png", local.as_uri(), "https://cityops.invalid/media/x.png",
                     "https://cityops.invalid/static/../../../etc/passwd"],
            outside_css=f"{base}/style.css",
        )
    finally:
        server.shutdown()
        server.server_close()
    assert _Recorder.requests == []
    assert images_of(reader) == []  # neither the server's image nor the local file was read
    assert "张三丰" in reader.pages[0].extract_text()


def test_static_path_stays_in_static_files():
    assert pdf._static_path("https://cityops.invalid/static/leaflet/draw/images/layers.png")
    assert pdf._static_path("https://cityops.invalid/static/../settings.py") is None
    assert pdf._static_path("https://cityops.invalid/static/%2e%2e/%2e%2e/etc/passwd") is None
    assert pdf._static_path("https://elsewhere.example/static/leaflet/draw/images/layers.png") is None
    assert pdf._static_path("https://cityops.invalid/static/x%00.png") is None


def test_system_check_warns_without_a_cjk_font(tmp_path, monkeypatch):
    pdf.cjk_font_families.cache_clear()
    try:
        assert "Noto Serif CJK SC" in pdf.cjk_font_families()
        assert check_cjk_font(None) == []
        # fontconfig with a configuration that knows no font directory: no CJK font.
        empty = tmp_path / "fonts.conf"
        empty.write_text('<?xml version="1.0"?><fontconfig><cachedir>' + str(tmp_path) + "</cachedir></fontconfig>")
        monkeypatch.setenv("FONTCONFIG_FILE", str(empty))
        pdf.cjk_font_families.cache_clear()
        warnings = check_cjk_font(None)
        assert [w.id for w in warnings] == ["cityops.W011"]
        assert "fonts-noto-cjk" in warnings[0].hint
    finally:
        monkeypatch.undo()
        pdf.cjk_font_families.cache_clear()
