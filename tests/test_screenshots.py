"""Every demo role's pages in Chromium at desktop (1440×900) and phone (390×844) size (issue 13, "Proof").

One live server and one demo city (the demo logins, their departments and regions, a few hours of simulated
traffic, IoT devices with readings and alarms, the resident's reports with photos, an early warning and the day's
briefings). Each role logs in once and visits its home, its case list, a case page, its queue and the pages of its
work (hotline, approvals, evaluation, supervision, portal, map, IoT; for the leader and a district's dispatcher the
dashboard: the map with its live bar and replay, coloured by score, with a chosen period; the early warnings and
the briefings, one of each; the live feed). Every page is saved at both sizes as a PNG into the screenshot folder —
`screenshots/` at the repository root, or $CITYOPS_SCREENSHOTS — named `<size>-<role>-<page>.png` (and
`phone-operator-menu.png`: the header's menu opened on a phone), and checked:

- at 390 px nothing is wider than the screen (the document does not scroll sideways), and the header is one line
  whose menu button opens the menu;
- no panel (`.card`) is blank: each has text (a list with nothing in it says so), a picture, a map or a form, and
  the dashboard's figures have loaded;
- no Chinese text is broken one character per line (an element whose text has at least two CJK characters but
  which is rendered no wider than about 1.5 characters and at least two lines high);
- every map shows the city's outlines: the local base layer (geo/static/geo/basemap.js) marks the map's container
  `data-basemap="loaded"` once its outlines are drawn, and the container holds drawn paths or a canvas. Without
  the base layer in the project a map without outlines is only reported (printed), not failed.

The test collects every problem of every page and fails once, listing them all.
"""

import contextlib
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.timeout(900)]

PASSWORD = "pw-cityops-screens"
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
ROOT = Path(__file__).resolve().parent.parent

# What each page must pass, measured in the page (one evaluate per page).
MAPS_DRAWN_JS = """() => [...document.querySelectorAll('.leaflet-container')].every(
  m => m.dataset.basemap === 'loaded' || m.dataset.outlines === 'loaded')"""
CHECKS_JS = """() => {
  const out = {overflow: null, broken: [], maps: []};
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) {
    // The widest elements that stick out on the right, to say what overflows.
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
      if (el.closest('.leaflet-container')) continue;  // clipped by the map
      const r = el.getBoundingClientRect();
      if (r.right > window.innerWidth + 1 && r.width > 0) {
        wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                  (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                  ' (' + Math.round(r.right) + 'px)');
      }
    }
    out.overflow = {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, wide: wide.slice(0, 5)};
  }
  const cjk = /[\\u3400-\\u9fff\\uf900-\\ufaff]/g;
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.leaflet-container, script, style, svg, [hidden]')) continue;
    // Only the element that holds the text itself (its own text nodes).
    let own = '';
    for (const n of el.childNodes) if (n.nodeType === 3) own += n.textContent;
    own = own.trim();
    const hits = own.match(cjk);
    if (!hits || hits.length < 2) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const em = parseFloat(style.fontSize) || 16;
    const line = parseFloat(style.lineHeight) || em * 1.2;
    const range = document.createRange();
    range.selectNodeContents(el);
    const text = range.getBoundingClientRect();
    const width = Math.min(r.width, text.width || r.width);
    if (width <= em * 1.5 && r.height >= line * 1.9) {
      out.broken.push(el.tagName.toLowerCase() + ': ' + own.slice(0, 20) + ' (' + Math.round(width) + '×' + Math.round(r.height) + 'px)');
    }
  }
  // A panel with nothing in it: no text, no picture, no map, no form control (every list says "nothing here yet").
  out.blank = [];
  for (const el of document.querySelectorAll('.card')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || el.closest('[hidden]')) continue;
    if (el.innerText.trim() || el.querySelector('img, svg, canvas, .leaflet-container, input, select, textarea, button')) continue;
    out.blank.push((el.id ? '#' + el.id : el.className) + ' (' + Math.round(r.width) + '×' + Math.round(r.height) + 'px)');
  }
  for (const m of document.querySelectorAll('.leaflet-container')) {
    const drawn = m.querySelectorAll('.leaflet-overlay-pane path, .leaflet-pane canvas, .leaflet-tile-loaded').length;
    out.maps.push({id: m.id || m.className, loaded: m.dataset.basemap === 'loaded' || m.dataset.outlines === 'loaded', drawn});
  }
  return out;
}"""


def _folder() -> Path:
    folder = Path(os.environ.get("CITYOPS_SCREENSHOTS") or ROOT / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (90, 130, 160)).save(out, "JPEG")  # a phone photo's size
    return out.getvalue()


@pytest.fixture
def demo_city(wuhan, settings, tmp_path):
    """The demo city as `cityops load_demo` makes it, smaller: every demo login, a few hours of traffic, IoT
    devices with a day of readings and an open alarm, and the resident's own report with a photo."""
    from cityops.accounts.demo import load_demo_users, load_departments, load_district_units, load_roles
    from cityops.accounts.models import User
    from cityops.cases.demo import load_categories
    from cityops.geo import index
    from cityops.iot.demo import load_demo as load_iot
    from cityops.iot.ingest import Ingestor, Message
    from cityops.iot.models import Device
    from cityops.portal.services import report_submit

    settings.MEDIA_ROOT = tmp_path / "media"
    load_roles()
    load_departments()
    load_categories()
    load_district_units()
    index.recheck()
    users = {name: None for name, _label in load_demo_users(password=PASSWORD)}
    # Dispute resolution (汉阳区's centre, committees, mediators, a campaign) and stability assessment (a decision
    # under consultation, one under monitoring), as `load_demo` makes them; their logins with the test's password.
    from cityops.disputes import demo as disputes_demo
    from cityops.stability import demo as stability_demo

    disputes_demo.load_demo()
    stability_demo.load_demo()
    disputes_demo.load_demo_users(password=PASSWORD)
    stability_demo.load_demo_decisions()
    for name in [*EXTRA_LOGINS]:
        login = User.objects.get(username=name)
        login.set_password(PASSWORD)
        login.save()
        users[name] = None
    # Six office hours of the last weekday: every role has acted, and cases still wait in every queue.
    day = timezone.localdate() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    with open(os.devnull, "w") as quiet:
        call_command("simulate", hours=6, rate=6, seed=13, start=f"{day.isoformat()}T08:30:00", stdout=quiet)

    load_iot(devices=12)
    now = timezone.now().replace(microsecond=0)
    for device in Device.objects.filter(type="water_level").order_by("code")[:2]:
        points = [{"id": f"s{i}", "metric": "water_level", "value": 0.02 + (0.3 if i > 40 else 0) + i / 1000,
                   "ts": (now - timedelta(minutes=5 * (48 - i))).isoformat()} for i in range(48)]
        Ingestor().process([Message(device.code, json.dumps(points))])

    from cityops.geo.models import Region

    resident = User.objects.get(username="resident")
    # A report in 东亭社区, where the street's and the community's staff and the grid worker work.
    dongting = Region.objects.filter(level="community", name__startswith="东亭").order_by("code").first()
    report_submit(actor=resident, category="C0101", description="东亭路小区门口的井盖松动，踩上去会翻",
                  lon=dongting.centroid_lon, lat=dongting.centroid_lat)
    submitted = report_submit(
        actor=resident, category="C0101", description="中南路口井盖缺失，晚上骑车经过很危险，请尽快处理",
        lon=114.3362, lat=30.5373, phone="13812345678", photos=[_File(_jpeg(), "cover.jpg"),
                                                               _File(_jpeg(), "near.jpg")],
    )
    _dashboard_items(day)
    return {"users": users, "track": (submitted.case.code, submitted.key), "day": day}


def _dashboard_items(day) -> None:
    """An open early warning in 武昌区 made of the simulated day's cases of its most reported category there, and
    the city's and 武昌区's daily briefings of that day (made as the worker makes them, not sent)."""
    from django.db.models import Count

    from cityops.cases.models import Case
    from cityops.core.workflow import create_with_timeline
    from cityops.dashboard import briefings
    from cityops.dashboard.models import EarlyWarning

    wuchang = Case.objects.filter(district_code="420106")
    top = wuchang.values("category_id").annotate(n=Count("id")).order_by("-n", "category_id").first()
    if top:
        cases = list(wuchang.filter(category_id=top["category_id"]).order_by("created_at")[:6])
        now = timezone.now()
        warning = EarlyWarning(
            category_id=top["category_id"], region_code="420106", region_level="district", region_name="武昌区",
            started_at=now - timedelta(hours=1), detected_at=now, last_hot_at=now, window_minutes=60,
            observed=len(cases), expected=1.2, score=6.5, peak_observed=len(cases),
        )
        create_with_timeline(warning, actor=None, action="raise", params={"cases": [c.pk for c in cases]})
        warning.cases.add(*cases)
    for region in ("", "420106"):
        briefings.make(kind="daily", day=day, region=region, send=False)


class _File:
    """What an uploaded file looks like to portal.services.check_photos."""

    def __init__(self, data: bytes, name: str):
        import io

        self._io, self.name, self.size, self.content_type = io.BytesIO(data), name, len(data), "image/jpeg"

    def read(self, *args):
        return self._io.read(*args)

    def chunks(self):
        yield self._io.getvalue()

    def seek(self, *args):
        return self._io.seek(*args)


# The demo logins of dispute resolution and stability assessment (disputes.demo, stability.demo).
EXTRA_LOGINS = ["centre_hy", "mediator_hy", "police_hy", "grid_hy", "stability_hy"]

# The first link of a list page, to visit one item of it: (page name, selector of the link, name of the item page).
ITEM_LINKS = [
    ("disputes", "td a[href^='/disputes/']", "dispute"),
    ("decisions", "td a[href^='/stability/']", "decision"),
    ("cases", "a[href^='/cases/20']", "case"),
    ("devices", "a[href^='/iot/devices/']", "device"),
    ("alarms", "td a[href^='/iot/alarms/']", "alarm"),
    ("warnings", "h2 a[href^='/dashboard/warnings/']", "warning"),
    ("briefings", ".what a[href^='/dashboard/briefings/']", "briefing"),
]


def _pages(role: str, city: dict) -> list[tuple[str, str]]:
    """(name, path) of the pages a role visits; an item page ("case", "device", "alarm") is the first link of the
    list page before it."""
    code, key = city["track"]
    if role == "anonymous":
        return [("login", "/accounts/login/"), ("portal", "/portal/")]
    if role == "resident":
        return [("home", "/"), ("portal", "/portal/"), ("report", "/portal/report/"),
                ("track", f"/portal/track/?code={code}&key={key}"), ("map", "/portal/map/"), ("inbox", "/inbox/"),
                ("apply-mediation", "/disputes/apply/"), ("my-disputes", "/disputes/mine/"),
                ("consultations", "/stability/public/")]
    work = {
        "operator": [("hotline", "/hotline/"), ("new", "/cases/new/")],
        "shiftlead": [("approvals", "/cases/approvals/"), ("hotline", "/hotline/")],
        "dispatcher": [("queue", "/cases/dispatch/"), ("approvals", "/cases/approvals/")],
        "district_wc": [("queue", "/cases/dispatch/"), ("approvals", "/cases/approvals/")],
        "street_sgh": [("queue", "/cases/level/")],
        "community_dt": [("queue", "/cases/level/")],
        "gridworker": [("queue", "/cases/tasks/"), ("new", "/cases/new/")],
        "dept_hw": [("queue", "/cases/queue/"), ("inbox-supervision", "/cases/supervision/inbox/")],
        "supervisor": [("queue", "/cases/supervision/")],
        "leader": [("evaluation", "/cases/evaluation/"), ("queue", "/cases/supervision/")],
        "admin": [("evaluation", "/cases/evaluation/")],
    }
    disputes = {
        "centre_hy": [("desk", "/disputes/desk/"), ("disputes", "/disputes/"), ("dispute", None),
                      ("campaigns", "/disputes/campaigns/"), ("evaluation", "/disputes/evaluation/")],
        "mediator_hy": [("queue", "/disputes/queue/"), ("disputes", "/disputes/"), ("dispute", None)],
        "police_hy": [("disputes", "/disputes/")],
        "grid_hy": [("visit", "/disputes/campaigns/visit/"), ("campaigns", "/disputes/campaigns/")],
        "stability_hy": [("decisions", "/stability/"), ("decision", None)],
    }
    if role in disputes:
        return [("home", "/"), *disputes[role]]
    pages = [("home", "/"), ("cases", "/cases/"), ("case", None), *work.get(role, [])]
    # The same pages for every role are visited by a few (they cost a page load each).
    if role in {"operator", "dispatcher", "leader", "district_wc", "community_dt", "gridworker"}:
        pages.append(("map", "/geo/"))
    if role in {"operator", "dept_hw"}:
        pages.append(("inbox", "/inbox/"))
    if role in {"leader", "district_wc"}:
        # The one map (live bar and replay below it), its areas coloured by score, a custom period in the picker;
        # the early warnings and the briefings with one of each, the live feed's own page.
        day = city["day"].isoformat()
        pages += [("dashboard", "/dashboard/"), ("dashboard-scores", "/dashboard/?areas=score&days=30"),
                  ("dashboard-period", f"/dashboard/?from={day}&to={day}"),
                  ("warnings", "/dashboard/warnings/"), ("warning", None),
                  ("briefings", "/dashboard/briefings/"), ("briefing", None), ("live", "/dashboard/live/")]
    if role == "leader":
        pages += [("disputes", "/disputes/"), ("decisions", "/stability/")]
    if role in {"operator", "dispatcher", "shiftlead", "leader", "admin", "dept_hw"}:
        pages += [("devices", "/iot/"), ("alarms", "/iot/alarms/")]
        if role in {"operator", "dispatcher", "leader"}:
            pages += [("device", None), ("alarm", None)]
    return pages


def _check(page, where: str, size: str, strict_maps: bool, problems: list, notes: list) -> None:
    found = page.evaluate(CHECKS_JS)
    if found["overflow"] and size == "phone":
        o = found["overflow"]
        problems.append(f"{where}: {o['scrollWidth']} px wide on a {o['innerWidth']} px screen; "
                        f"sticking out: {', '.join(o['wide'])}")
    for el in found["broken"]:
        problems.append(f"{where}: text one character per line: {el}")
    for el in found["blank"]:
        problems.append(f"{where}: a blank panel: {el}")
    for m in found["maps"]:
        if not (m["loaded"] and m["drawn"]):
            (problems if strict_maps else notes).append(f"{where}: map {m['id']} without outlines")


def _wait_for_outlines(page) -> None:
    with contextlib.suppress(PlaywrightTimeout):  # the check then says which map has no outlines
        page.wait_for_function(MAPS_DRAWN_JS, timeout=8000)


def _menu_opens(page, where: str, problems: list) -> None:
    """On a phone the header is one line; its menu button shows the menu (no CDN, cityops.js) and hides it again."""
    link = page.locator(".mainnav a").first
    if link.is_visible():
        problems.append(f"{where}: the menu is open before its button is pressed")
    page.click(".menu-toggle")
    if not link.is_visible() or page.get_attribute(".menu-toggle", "aria-expanded") != "true":
        problems.append(f"{where}: the menu button does not open the menu")


def _login(browser, live_server, role: str):
    context = browser.new_context(locale="zh-CN", viewport=SIZES["desktop"])
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{live_server.url}/**")
    return context, page


def test_every_role_at_desktop_and_phone_size(demo_city, browser, live_server):
    """Each page is loaded once at desktop size, shot and checked, then the window is narrowed to a phone's
    and the page shot and checked again (what a phone shows: the layout follows the width, nothing on these
    pages reads the width only at load), which halves the page loads."""
    folder = _folder()
    strict_maps = finders.find("geo/basemap.js") is not None  # the local base layer is part of cityops
    problems, notes, shots = [], [], 0
    items: dict[str, str] = {}  # item page → its path
    for role in ("anonymous", *demo_city["users"]):
        if role == "anonymous":  # the login page and the portal before logging in
            context = browser.new_context(locale="zh-CN", viewport=SIZES["desktop"])
            page = context.new_page()
            page.set_default_timeout(15000)
        else:
            context, page = _login(browser, live_server, role)
        items.clear()
        for name, path in _pages(role, demo_city):
            path = path or items.get(name)
            if path is None:
                notes.append(f"{role}: no {name} to visit")
                continue
            page.set_viewport_size(SIZES["desktop"])
            response = page.goto(f"{live_server.url}{path}")
            if response is None or response.status >= 400:
                problems.append(f"{role} {name} ({path}): HTTP {response.status if response else '—'}")
                continue
            if page.locator("#dmap-figures").count():  # the dashboard: its figures come from its API
                try:
                    page.wait_for_selector("#dmap-figures[data-loaded='1']", timeout=30000)
                except PlaywrightTimeout:
                    problems.append(f"{role} {name} ({path}): the dashboard's figures did not load in 30 s")
            has_map = page.locator(".leaflet-container").count() > 0
            for size, viewport in SIZES.items():
                page.set_viewport_size(viewport)
                if has_map:
                    page.wait_for_timeout(150)  # Leaflet follows the window's size
                    _wait_for_outlines(page)
                page.screenshot(path=str(folder / f"{size}-{role}-{name}.png"), full_page=True)
                shots += 1
                _check(page, f"{size} {role} {name} ({path})", size, strict_maps, problems, notes)
            for list_name, selector, item in ITEM_LINKS:
                link = page.locator(selector).first
                if list_name == name and link.count():
                    items[item] = link.get_attribute("href")
            if role == "operator" and name == "home":
                _menu_opens(page, "phone operator menu", problems)
                page.screenshot(path=str(folder / "phone-operator-menu.png"))
                shots += 1
        context.close()
    # The dashboard pages opened live streams on the live server (the session's): end them before the database is
    # emptied, as the login fixture does after its tests (a stream reads the timeline until its page is found gone).
    from cityops.dashboard import live

    live.hub.stop(timeout=5)
    print(f"{shots} screenshots in {folder}")
    for note in notes:
        print("note:", note)
    assert not problems, "\n".join(problems)
