"""The local base map in Chromium (issue 13, "maps that say where things are"): a case page's map at street zoom
shows outlines and names; the portal's report map centres on a typed address, asks before moving the resident's
own pin and takes away the pin of an address that is no longer found; a city's PMTiles file is drawn under the
map; a slow layer shows the loading indicator. DB-agnostic, like every browser test (run on SQLite)."""

import io

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pixels of the outline canvases that are not transparent: the outlines drawn.
DRAWN_PIXELS = """(sel) => {
  let n = 0;
  document.querySelectorAll(sel + ' canvas.basemap-tile').forEach((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
  });
  return n;
}"""


@pytest.fixture
def city(wuhan):
    from cityops.accounts.demo import load_departments, load_roles
    from cityops.cases.demo import load_categories

    load_roles()
    load_departments()
    load_categories()
    return wuhan


def community_point() -> tuple[float, float, str]:
    """The label point of a community of 武昌区, with the name of its street."""
    from cityops.geo.models import Region
    from cityops.geo.selectors import locate_point

    for region in Region.objects.filter(level="community", code__startswith="420106").order_by("code")[:50]:
        location = locate_point(lon=region.centroid_lon, lat=region.centroid_lat)
        if location.community is not None and location.community.code == region.code:
            return region.centroid_lon, region.centroid_lat, location.street.name
    raise AssertionError("no community of 420106 in the demo city")


def test_a_case_page_map_at_street_zoom_shows_outlines_and_names(city, page, live_server, login, operator):
    from cityops.cases.services import case_create
    from cityops.geo.names import short_name

    lon, lat, street = community_point()
    case = case_create(actor=operator, category="E0101", lon=lon, lat=lat, description="路边有暴露垃圾").case
    login(page, operator)
    page.goto(f"{live_server.url}/cases/{case.code}/")
    expect(page.locator("#case-map")).to_have_attribute("data-basemap", "loaded", timeout=20000)
    assert page.evaluate("() => window.cityopsBasemap && true")
    assert page.evaluate("() => window.__caseMap.getZoom()") == 15  # the case page opens at street zoom on its pin
    assert page.evaluate(DRAWN_PIXELS, "#case-map") > 500
    names = page.locator("#case-map .basemap-label").all_inner_texts()
    assert names, "no name on the map"
    # The case's own street or community is named (whichever fits at this zoom), in a readable size.
    assert short_name(street) in names or any(name.endswith("社区") for name in names)
    box = page.locator("#case-map .basemap-label").first.bounding_box()
    assert box["height"] >= 10 and box["width"] > box["height"]


def test_the_report_map_follows_the_typed_address_and_asks_before_moving_a_pin(city, page, live_server):
    page.goto(f"{live_server.url}/portal/report/")
    expect(page.locator("#report-map")).to_have_attribute("data-basemap", "loaded", timeout=20000)
    address = page.locator("#address")

    address.fill("黄鹤楼")
    address.press("Enter")  # searches, does not submit
    # The first search of a process builds the address parser's name tables: give it time.
    expect(page.locator("#report-map .leaflet-marker-icon")).to_have_count(1, timeout=30000)
    assert page.url.endswith("/portal/report/")
    lat, lon = float(page.input_value("#lat")), float(page.input_value("#lon"))
    assert abs(lon - 114.30) < 0.02 and abs(lat - 30.545) < 0.02
    centre = page.evaluate("() => window.__portalMap.getCenter()")
    assert abs(centre["lng"] - lon) < 1e-4 and abs(centre["lat"] - lat) < 1e-4
    assert page.evaluate("() => window.__portalMap.getZoom()") >= 15
    expect(page.locator("#address-info")).to_contain_text("武昌区")

    address.fill("火星基地九号仓库")  # nothing of the city
    address.press("Enter")
    expect(page.locator("#report-map .leaflet-marker-icon")).to_have_count(0)  # the stale pin is gone
    assert page.input_value("#lat") == "" and page.input_value("#lon") == ""
    expect(page.locator("#address-info")).to_contain_text("没有找到该地址")

    # The resident's own pin is not moved by an address without asking.
    page.locator("#report-map").click(position={"x": 200, "y": 150})  # the resident's own pin
    expect(page.locator("#report-map .leaflet-marker-icon")).to_have_count(1)
    mine = (page.input_value("#lon"), page.input_value("#lat"))

    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.fill("#address", "黄鹤楼")
    page.press("#address", "Enter")
    expect(page.locator("#address-info")).to_contain_text("保持不变", timeout=30000)
    assert questions and "黄鹤楼" in questions[0] and "标注" in questions[0]  # asked, in the page's language
    assert (page.input_value("#lon"), page.input_value("#lat")) == mine

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#address-search")
    expect(page.locator("#address-info")).to_contain_text("已按地址定位")
    assert abs(float(page.input_value("#lon")) - 114.30) < 0.02

    # A failed search leaves the resident's own pin where they put it.
    page.locator("#report-map").click(position={"x": 220, "y": 160})
    mine = (page.input_value("#lon"), page.input_value("#lat"))
    page.fill("#address", "火星基地九号仓库")
    page.press("#address", "Enter")
    expect(page.locator("#address-info")).to_contain_text("没有找到该地址")
    expect(page.locator("#report-map .leaflet-marker-icon")).to_have_count(1)
    assert (page.input_value("#lon"), page.input_value("#lat")) == mine

    # A layer that arrives within 300 ms shows no loading indicator.
    shown = page.evaluate("""() => new Promise((resolve) => {
        const box = document.querySelector('#report-map .map-loading');
        let seen = false;
        const watch = new MutationObserver(() => { if (!box.hidden) seen = true; });
        watch.observe(box, { attributes: true });
        const done = cityopsBasemap.busy(window.__portalMap);
        setTimeout(() => { done(); setTimeout(() => { watch.disconnect(); resolve(seen); }, 400); }, 100);
    })""")
    assert shown is False


def test_a_pmtiles_file_is_drawn_under_the_map_and_a_slow_layer_shows_the_indicator(city, page, live_server, settings,
                                                                                     tmp_path):
    from PIL import Image
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    out = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 230, 200)).save(out, "PNG")
    tiles = [(z, x, y) for z in (10, 11) for x in range(2**z) for y in range(2**z)
             if 113.5 <= x / 2**z * 360 - 180 <= 115.3 and 410 * 2 ** (z - 10) <= y <= 430 * 2 ** (z - 10)]
    path = tmp_path / "city.pmtiles"
    with path.open("wb") as f:
        writer = Writer(f)
        for z, x, y in sorted(tiles, key=lambda t: zxy_to_tileid(*t)):
            writer.write_tile(zxy_to_tileid(z, x, y), out.getvalue())
        writer.finalize({"tile_type": TileType.PNG, "tile_compression": Compression.NONE, "min_zoom": 10,
                         "max_zoom": 11, "min_lon_e7": int(113.5e7), "min_lat_e7": int(29.8e7),
                         "max_lon_e7": int(115.3e7), "max_lat_e7": int(31.5e7), "center_zoom": 10,
                         "center_lon_e7": int(114.3e7), "center_lat_e7": int(30.6e7)}, {})
    settings.CITYOPS_PMTILES = str(path)

    # The outline tiles are held back: past 300 ms the map says it is loading.
    held, hold = [], [True]
    page.route("**/geo/tiles/outlines/**", lambda route: held.append(route) if hold[0] else route.continue_())
    page.goto(f"{live_server.url}/portal/map/")
    indicator = page.locator("#case-map .map-loading")
    expect(indicator).to_be_visible(timeout=5000)
    expect(indicator).to_contain_text("加载")
    hold[0] = False
    for route in held:
        route.continue_()
    expect(page.locator("#case-map")).to_have_attribute("data-basemap", "loaded", timeout=20000)
    expect(indicator).to_be_hidden()

    # The PMTiles file's raster tiles are under the outlines.
    base = page.locator("#case-map img.leaflet-tile[src*='/geo/tiles/base/']")
    expect(base.first).to_be_visible()
    page.wait_for_function("""() => [...document.querySelectorAll("#case-map img.leaflet-tile-loaded")]
        .some((img) => img.src.includes('/geo/tiles/base/') && img.naturalWidth === 256)""")
