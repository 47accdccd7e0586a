"""The public portal through Django's test client: report, nearby, add your voice, track, rate, map."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cityops.cases.models import Case
from cityops.core import roles
from cityops.core.timeline import timeline_for
from cityops.open311.tests.test_endpoints import close_case

pytestmark = pytest.mark.django_db


def report(client, point, **fields):
    data = {"category": "C0101", "description": "中南路井盖缺失", "address": "中南路", **point}
    data.update(fields)
    return client.post("/portal/report/", {k: v for k, v in data.items() if v is not None})


def test_pages_render(client, city):
    for url in ("/portal/", "/portal/report/", "/portal/track/", "/portal/map/"):
        assert client.get(url).status_code == 200, url


def test_report_with_photo_and_phone_then_track(client, city, point, jpeg_bytes):
    photo = SimpleUploadedFile("a.jpg", jpeg_bytes, content_type="image/jpeg")
    response = report(client, point, phone="13812345678", photos=[photo])
    assert response.status_code == 302 and response["Location"] == "/portal/report/done/"
    done = client.get("/portal/report/done/")
    submitted = done.context["submitted"]
    case = Case.objects.get(code=submitted["code"])
    assert case.source == "portal" and case.reporter_phone == "13812345678" and case.photos.count() == 1
    assert client.get("/portal/report/done/").status_code == 302  # the key is shown once

    public = client.get(f"/portal/track/?code={case.code}")
    assert public.context["status_text"] == "已收到，等待受理" and not public.context["owner"]
    assert "13812345678" not in public.content.decode() and "中南路井盖缺失" not in public.content.decode()
    own = client.get(f"/portal/track/?code={case.code}&key={submitted['key'].lower()}")
    assert own.context["owner"] and "中南路井盖缺失" in own.content.decode()
    by_phone = client.get(f"/portal/track/?code={case.code}&key=13812345678")
    assert by_phone.context["owner"] is False  # the form's key field is not the phone field
    by_phone = client.get(f"/portal/track/?code={case.code}&phone=138-1234-5678")
    assert by_phone.context["owner"]
    wrong = client.get(f"/portal/track/?code={case.code}&key=WRONG123")
    assert wrong.context["proof_error"] and not wrong.context["owner"]


def test_unknown_code_is_404_in_both_languages(client, city):
    response = client.get("/portal/track/?code=2099000000")
    assert response.status_code == 404
    assert response.context["error"]["zh"].startswith("未找到") and response.context["error"]["en"].startswith("No report")


@pytest.mark.parametrize(
    ("fields", "zh", "en"),
    [
        ({"category": ""}, "未知的案件类别", "Unknown case category"),
        ({"description": ""}, "请描述问题", "description is required"),
        ({"lat": "", "lon": "", "address": ""}, "请提供坐标或地址", "lon/lat or an address"),
        ({"lat": "39.9", "lon": "116.4"}, "不在本市", "outside the city"),
        ({"phone": "12"}, "联系电话", "phone number"),
    ],
)
def test_errors_in_the_pages_language(client, city, point, fields, zh, en):
    """A refusal in the reader's language only (issue 13): Chinese on the Chinese page, English on the English one."""
    from django.test import Client

    response = report(client, point, **fields)
    assert response.status_code == 400
    body = response.content.decode()
    assert zh in body and en not in body
    english = report(Client(HTTP_ACCEPT_LANGUAGE="en"), point, **fields)
    assert english.status_code == 400
    assert en in english.content.decode() and zh not in english.content.decode()
    assert Case.objects.count() == 0


def test_image_validation_and_photo_limit(client, city, point, jpeg_bytes):
    fake = SimpleUploadedFile("x.jpg", b"<html>not an image</html>", content_type="image/jpeg")
    response = report(client, point, photos=[fake])
    assert response.status_code == 400 and "「x.jpg」不是 JPEG" in response.content.decode()  # the page's language only
    ten = [SimpleUploadedFile(f"{i}.jpg", jpeg_bytes, content_type="image/jpeg") for i in range(10)]
    response = report(client, point, photos=ten)
    assert response.status_code == 400 and "最多上传 9 张照片" in response.content.decode()
    assert Case.objects.count() == 0


def test_rate_limit_per_client(client, city, point, settings):
    settings.CITYOPS_PORTAL_REPORTS_PER_HOUR = 2
    assert [report(client, point).status_code for _ in range(3)] == [302, 302, 429]


def test_csrf_is_enforced(city, point):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/portal/report/", {"category": "C0101", "description": "x", **point}).status_code == 403


def test_nearby_and_add_your_voice(client, city, point):
    report(client, point)
    kept = Case.objects.get()
    nearby = client.get("/portal/nearby.json", {"category": "C0101", **point}).json()["cases"]
    assert [c["code"] for c in nearby] == [kept.code] and nearby[0]["distance_m"] == 0
    assert client.get("/portal/nearby.json", {"category": "E0101", **point}).json()["cases"] == []
    refused = client.get("/portal/nearby.json", {"category": "C0101", "lon": "NaN", "lat": point["lat"]})
    assert refused.status_code == 400 and refused.json()["code"] and refused.json()["message_en"]  # coded, as the API
    response = report(client, point, supports=kept.code, description="我也看到了")
    assert response.status_code == 302
    voice = Case.objects.exclude(pk=kept.pk).get()
    assert voice.portal.supports_id == kept.pk
    # Merged by the case workflow when it lets the resident's confirmation merge; otherwise marked for the
    # operator's one click. Either way it is recorded against the kept case.
    actions = [e.action for e in timeline_for(voice)]
    assert voice.state == "merged" or "support_request" in actions


def test_rating_after_closing_feeds_the_follow_up(client, city, point, make_user):
    report(client, point, phone="13812345678")
    key = client.get("/portal/report/done/").context["submitted"]["key"]
    case = Case.objects.get()
    users = {
        "operator": make_user("p_op", roles.OPERATOR), "dispatcher": make_user("p_disp", roles.DISPATCHER),
        "handler": make_user("p_sw", roles.DEPT_HANDLER, org_units=["SW"]),
        "grid": make_user("p_grid", roles.GRID_WORKER, region_codes=["420106"]), "lead": make_user("p_lead", roles.SHIFT_LEAD),
    }
    early = client.post("/portal/track/", {"code": case.code, "key": key, "satisfied": "yes"})
    assert early.status_code == 400 and "问题办结后才能评价" in early.content.decode()
    close_case(case, users)
    page = client.get(f"/portal/track/?code={case.code}&key={key}")
    assert page.context["can_rate"] and page.context["status_text"] == "已处理完毕"
    stranger = client.post("/portal/track/", {"code": case.code, "key": "ZZZZZZZZ", "satisfied": "yes"})
    assert stranger.status_code == 403
    rated = client.post("/portal/track/", {"code": case.code, "key": key, "satisfied": "yes", "comment": "很快"})
    assert rated.status_code == 200 and rated.context["rated"]
    case.refresh_from_db()
    assert case.state == "archived" and case.satisfaction is True
    assert case.portal.satisfied is True and not rated.context["can_rate"]


def test_unsatisfied_needs_a_reason(client, city, point):
    report(client, point, phone="13812345678")
    case = Case.objects.get()
    response = client.post("/portal/track/", {"code": case.code, "phone": "13812345678", "satisfied": "no"})
    assert response.status_code == 400  # not closed yet; the reason rule is checked after that


def test_public_map_rounds_and_hides_personal_data(client, city, point):
    report(client, point, phone="13812345678", description="我家门口，电话 13812345678")
    report(client, {"lat": "30.6018", "lon": "114.2989"}, category="E0101")
    report(client, point, category="E0604", description="拖欠工资")
    data = client.get("/portal/map.json").json()
    assert len(data["features"]) == 2  # the private category is not on the map
    text = str(data)
    assert "13812345678" not in text and "门口" not in text
    lon, lat = next(f for f in data["features"] if f["properties"]["category"] == "C0101")["geometry"]["coordinates"]
    assert (lon, lat) == (114.336, 30.537)
    assert len(client.get("/portal/map.json?category=C0101").json()["features"]) == 1
    assert len(client.get("/portal/map.json?district=420102").json()["features"]) == 1


# --- anonymous means anonymous (issue 10 §3) -----------------------------------------------------------------
def test_an_anonymous_resident_is_nobody_to_the_department_and_open311(client, city, point, jpeg_bytes, make_user):
    """A signed-in resident reports through the portal, anonymously, with a photo: the department's case page
    and timeline, and Open311's request and updates, carry neither their login, their name nor their phone."""
    from cityops.cases import services as cs

    resident = make_user("li_si_portal", roles.RESIDENT, first_name="李四", phone="13900002222")
    client.force_login(resident)
    photo = SimpleUploadedFile("a.jpg", jpeg_bytes, content_type="image/jpeg")
    assert report(client, point, anonymous="on", photos=[photo]).status_code == 302
    case = Case.objects.get()
    assert case.anonymous and case.reporter == resident and case.reporter_phone == ""
    users = {"operator": make_user("p_op", roles.OPERATOR), "dispatcher": make_user("p_disp", roles.DISPATCHER),
             "handler": make_user("p_sw", roles.DEPT_HANDLER, org_units=["SW"])}
    case = cs.case_register(case=case, actor=users["operator"])
    cs.case_dispatch(case=case, actor=users["dispatcher"], department="SW")
    department = type(client)()
    department.force_login(users["handler"])
    seen = [
        department.get(f"/cases/{case.code}/").content.decode(),
        department.get(f"/api/v1/cases/{case.code}/timeline").content.decode(),
        department.get(f"/api/v1/cases/{case.code}").content.decode(),
        client.get(f"/open311/v2/requests/{case.code}.json?extensions=true").content.decode(),
        client.get("/open311/v2/servicerequestupdates.json").content.decode(),
    ]
    for text in seen:
        assert "li_si_portal" not in text and "李四" not in text and "13900002222" not in text and "2222" not in text
    timeline = department.get(f"/api/v1/cases/{case.code}/timeline").json()
    assert {e["actor"] for e in timeline if e["action"] in ("report", "photo_add")} == {"匿名市民"}


# --- wrong tracking keys and phones are throttled like logins (issue 10 §3) -----------------------------------
def test_wrong_tracking_keys_and_phones_lock_the_address_out(client, city, point, settings, monkeypatch):
    from django.test import Client

    settings.CITYOPS_PORTAL_TRACK_FAILURE_LIMIT = 3
    settings.CITYOPS_PORTAL_TRACK_COOLOFF_S = 600
    report(client, point, phone="13812345678")
    key = client.get("/portal/report/done/").context["submitted"]["key"]
    code = Case.objects.get().code
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    assert guesser.get(f"/portal/track/?code={code}&key=WRONG001").context["proof_error"]
    assert guesser.get(f"/portal/track/?code={code}&phone=13800000000").context["proof_error"]
    assert guesser.post("/portal/track/", {"code": code, "key": "WRONG002", "satisfied": "yes"}).status_code == 403
    # Three wrong proofs from one address: every proof from it is refused for the cool-off, the right one too.
    locked = guesser.get(f"/portal/track/?code={code}&key={key}")
    assert locked.status_code == 429 and locked["Retry-After"] == "600"
    body = locked.content.decode()
    assert "查询码或手机号错误次数过多" in body and "10 分钟" in body  # the page's language only (issue 13)
    english = Client(REMOTE_ADDR="198.51.100.7", HTTP_ACCEPT_LANGUAGE="en").get(f"/portal/track/?code={code}&key={key}")
    assert "Too many wrong tracking keys or phone numbers" in english.content.decode()
    assert "10 minutes" in english.content.decode()
    assert guesser.post("/portal/track/", {"code": code, "key": key, "satisfied": "yes"}).status_code == 429
    assert Client(REMOTE_ADDR="198.51.100.7", HTTP_ACCEPT_LANGUAGE="en").get(
        f"/portal/track/?code={code}&phone=13812345678").status_code == 429  # a new session changes nothing
    assert guesser.get(f"/portal/track/?code={code}").status_code == 200  # the public status stays public
    # Another address is not affected; a right proof is never counted.
    other = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        assert other.get(f"/portal/track/?code={code}&key={key}").context["owner"]
    # After the cool-off the address may try again.
    import time

    later = time.time() + 601
    monkeypatch.setattr(time, "time", lambda: later)
    assert guesser.get(f"/portal/track/?code={code}&key={key}").context["owner"]


def test_categories_by_their_english_name_on_the_english_ui(city):
    """The report form and the map filter name categories in the reader's language (issue 13)."""
    from django.test import Client

    from cityops.cases.models import Category

    category = Category.objects.filter(active=True).exclude(name_en="").first()
    english, chinese = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    for path in ("/portal/report/", "/portal/map/"):
        assert f">{category.name_en}<" in english.get(path).content.decode()
        assert f">{category.name_zh}<" in chinese.get(path).content.decode()
