"""The dispute documents as PDF (issue 14): the mediation agreement with the parties' signature records, the
application for judicial confirmation (人民调解法 §33) and the termination notice (§26) — each rendered and read
back with pypdf; who may download them; and the signature records (paper scan or tablet PNG) with their refusals.

The disputes go through the real flow (services.register_dispute → accept → assign → start → agree …)."""

from __future__ import annotations

import base64
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image, ImageDraw
from pypdf import PdfReader

from cityops.accounts.models import OrgUnit
from cityops.cases.tests.conftest import POINT_WUCHANG_A, geography, reference  # noqa: F401  (fixtures)
from cityops.core import roles
from cityops.core.timeline import timeline_for
from cityops.core.workflow import transition
from cityops.disputes import documents, services
from cityops.disputes.models import Agreement, Dispute, Signature

pytestmark = pytest.mark.django_db

ID_ZHANG = "420106199001011231"
ID_LI = "11010519491231002X"
USCC = "91110000600037341L"
TERMS = "一、李四于2026年12月20日前修复卫生间防水层；二、李四赔偿张三丰吊顶维修费人民币三千元。"


# --- what the tests send and read ----------------------------------------------------------------------------
def pdf_text(pdf: bytes) -> str:
    """The PDF's text with white space taken out (pypdf breaks lines where the layout does)."""
    reader = PdfReader(io.BytesIO(pdf))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def pdf_images(pdf: bytes) -> int:
    """How many different images the PDF draws (pages may share one resource dictionary)."""
    found = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"].get("/XObject", {}).values():
            if ref.get_object().get("/Subtype") == "/Image":
                found.add(ref.idnum)
    return len(found)


def cjk_fonts_embedded(pdf: bytes) -> bool:
    names = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            owner = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = owner["/FontDescriptor"].get_object()
            if "/FontFile2" not in descriptor and "/FontFile3" not in descriptor:
                return False
            names.append(str(font["/BaseFont"]))
    return any("CJK" in name for name in names)


def tablet_png(blank: bool = False) -> bytes:
    img = Image.new("RGBA", (400, 150), (255, 255, 255, 0))
    if not blank:
        ImageDraw.Draw(img).line([(20, 100), (120, 30), (220, 120), (380, 40)], fill=(0, 0, 0, 255), width=5)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def scanned_jpeg() -> bytes:
    img = Image.new("RGB", (800, 400), "white")
    ImageDraw.Draw(img).line([(100, 300), (300, 100), (500, 300)], fill="black", width=6)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make: metadata a scan from a phone carries
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size (a decompression bomb's header) and holds no pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IEND", b""))


SCANNED_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
               b"trailer<</Root 1 0 R>>\n%%EOF\n")


# --- the world: a centre in 武昌区, its committee (东社区), another committee, one person per role ---------------
@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Signature files of the tests go to a temporary place (the private storage is under DATA_DIR)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DATA_DIR = tmp_path


@pytest.fixture
def people(reference, make_user):  # noqa: F811  (the fixture imported above)
    centre = OrgUnit.objects.create(code="ZX-420106", name="武昌区矛盾纠纷多元化解中心", kind=OrgUnit.Kind.CENTRE,
                                    region_code="420106")
    committee = OrgUnit.objects.create(code="TW-420106001001", name="东社区人民调解委员会",
                                       kind=OrgUnit.Kind.COMMITTEE, region_code="420106001001")
    other = OrgUnit.objects.create(code="TW-420102001001", name="江岸东社区人民调解委员会",
                                   kind=OrgUnit.Kind.COMMITTEE, region_code="420102001001")
    return {
        "centre": centre, "committee": committee,
        "staff": make_user("t_doc_staff", roles.CENTRE_STAFF, org_units=[centre.code], first_name="陈中心"),
        "mediator": make_user("t_doc_med", roles.MEDIATOR, org_units=[committee.code], first_name="王调解"),
        "colleague": make_user("t_doc_col", roles.MEDIATOR, org_units=[committee.code], first_name="赵同事"),
        "outsider": make_user("t_doc_out", roles.MEDIATOR, org_units=[other.code], first_name="钱外委"),
        "leader": make_user("t_doc_lead", roles.LEADER, first_name="刘领导"),
        "zhang": make_user("t_doc_zhang", roles.RESIDENT, first_name="张三丰"),
        "stranger": make_user("t_doc_stranger", roles.RESIDENT, first_name="路人甲"),
        "grid": make_user("t_doc_grid", roles.GRID_WORKER, region_codes=["420106001001"], first_name="孙网格"),
    }


@pytest.fixture
def dispute(people):
    """A walk-in dispute at the centre: 张三丰 (with his resident account) against 李四 and a property company."""
    d = services.register_dispute(
        actor=people["staff"], source="walk_in", title="楼上卫生间漏水", description="楼上卫生间漏水至楼下，吊顶受损",
        kind="neighbour", lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1],
        parties=[{"side": "applicant", "kind": "person", "name": "张三丰", "id_number": ID_ZHANG,
                  "phone": "13812345678"},
                 {"side": "respondent", "kind": "person", "name": "李四", "id_number": ID_LI},
                 {"side": "respondent", "kind": "organisation", "name": "武汉市某物业服务有限公司", "uscc": USCC}])
    d.parties.filter(name="张三丰").update(user=people["zhang"])
    d = services.accept(dispute=d, actor=people["staff"], channel="people", committee_id=people["committee"].pk)
    d = services.assign(dispute=d, actor=people["staff"], mediator_id=people["mediator"].pk)
    return transition(d, "start", people["mediator"])


@pytest.fixture
def agreed(dispute, people):
    return services.agree(dispute=dispute, actor=people["mediator"], facts="2026年10月起楼上卫生间漏水，楼下吊顶受损。",
                          terms=TERMS, performance_method="银行转账并现场验收",
                          performance_deadline=timezone.localdate() + timedelta(days=20))


@pytest.fixture
def terminated(dispute, people):
    return services.terminate(dispute=dispute, actor=people["mediator"], reason="no_agreement",
                              detail="双方对赔偿金额分歧较大")


def api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sign(user, dispute, party, method="paper", data=None, name="scan.jpg"):
    data = scanned_jpeg() if data is None else data
    return api(user).post(f"/api/v1/disputes/documents/{dispute.pk}/signatures",
                          {"party_id": party.pk, "method": method, "file": _upload(data, name)})


def _upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def party(dispute, name):
    return dispute.parties.get(name=name)


def sign_everyone(dispute, people):
    """Every party signs (on paper), as the agreement needs before judicial confirmation is requested."""
    for p in dispute.parties.all():
        assert sign(people["mediator"], dispute, p).status_code == 201


def stored_files(settings) -> list[Path]:
    """The signature files stored (the storage's place follows settings.DATA_DIR)."""
    root = Path(Signature._meta.get_field("file").storage.location)
    assert Path(settings.DATA_DIR) in root.parents
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- the documents ------------------------------------------------------------------------------------------
def test_agreement_names_parties_facts_terms_performance_committee_and_mediator(agreed, people):
    pdf = documents.document_pdf(dispute=agreed, slug="agreement", user=people["staff"])
    text = pdf_text(pdf)
    deadline = timezone.localdate() + timedelta(days=20)
    for expected in ("人民调解协议书", agreed.code, "张三丰", "李四", "武汉市某物业服务有限公司", USCC,
                     "2026年10月起楼上卫生间漏水", "李四赔偿张三丰吊顶维修费人民币三千元", "银行转账并现场验收",
                     f"{deadline.year}年{deadline.month}月{deadline.day}日前履行完毕", "东社区人民调解委员会（印章）",
                     "人民调解员（签名）：王调解", "一式四份", "未签署", "第1页/共"):
        assert expected in text, expected
    assert ID_ZHANG in text and ID_LI in text  # the centre's staff need the numbers: printed in full
    assert cjk_fonts_embedded(pdf)


def test_a_party_reads_the_agreement_with_id_numbers_masked(agreed, people):
    response = api(people["zhang"]).get(f"/api/v1/disputes/documents/{agreed.pk}/pdf/agreement")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    text = pdf_text(response.content)
    assert "张三丰" in text and "李四赔偿张三丰吊顶维修费人民币三千元" in text
    assert ID_ZHANG not in text and ID_LI not in text
    assert "420106********1231" in text and "110105********002X" in text


def test_agreement_carries_each_partys_signature_record(agreed, people, settings):
    zhang, li, company = party(agreed, "张三丰"), party(agreed, "李四"), party(agreed, "武汉市某物业服务有限公司")
    assert sign(people["mediator"], agreed, zhang).status_code == 201
    assert sign(people["staff"], agreed, li, method="tablet", data=tablet_png(), name="pad.png").status_code == 201
    assert sign(people["mediator"], agreed, company, data=SCANNED_PDF, name="company.pdf").status_code == 201
    pdf = documents.document_pdf(dispute=Dispute.objects.get(pk=agreed.pk), slug="agreement", user=people["leader"])
    text = pdf_text(pdf)
    assert "纸质签字扫描" in text and "平板电子签名" in text
    assert "纸质签字扫描件（PDF）已存档" in text  # a PDF scan is kept, not drawn
    assert "王调解" in text and "陈中心" in text  # who recorded each signature
    assert "未签署" not in text
    assert pdf_images(pdf) == 2  # the JPEG scan and the tablet's PNG are drawn in the signature table
    signed = Signature.objects.get(party=zhang)
    assert text.count(timezone.localtime(signed.signed_at).strftime("%Y-%m-%d%H:%M")) >= 1
    assert len(stored_files(settings)) == 3


def test_confirmation_application_is_addressed_to_the_court_within_30_days(agreed, people):
    pdf = documents.document_pdf(dispute=agreed, slug="confirmation-application", user=people["mediator"])
    text = pdf_text(pdf)
    apply_by = timezone.localdate(Agreement.objects.get(dispute=agreed).created_at) + timedelta(days=30)
    for expected in ("司法确认申请书", "张三丰", "李四", "武汉市某物业服务有限公司", "请求人民法院依法确认",
                     "东社区人民调解委员会", "李四赔偿张三丰吊顶维修费人民币三千元", "第三十三条",
                     f"{apply_by.year}年{apply_by.month}月{apply_by.day}日前", "此致武汉市武昌区人民法院",
                     "人民调解协议书一份"):
        assert expected in text, expected
    assert cjk_fonts_embedded(pdf)
    # The court the request names wins over the committee's district court.
    sign_everyone(agreed, people)
    services.request_confirmation(dispute=agreed, actor=people["mediator"], court="武汉市中级人民法院")
    requested = documents.document_dispute(user=people["staff"], dispute_id=agreed.pk)
    text = pdf_text(documents.document_pdf(dispute=requested, slug="confirmation-application", user=people["staff"]))
    assert "此致武汉市中级人民法院" in text


def test_a_court_referred_dispute_applies_to_the_referring_court(people, make_user):
    from cityops.disputes.models import Referrer

    court_user = make_user("t_doc_court", roles.REFERRER)
    court = Referrer.objects.create(code="FY-WC", name="武汉市武昌区人民法院（诉前调解）", kind="court",
                                    user=court_user, centre=people["centre"])
    d = services.register_dispute(
        actor=court_user, source="court", referrer=court, external_ref="(2026)鄂0106民诉前调1号", title="货款纠纷",
        description="货款未付", kind="consumer", lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1],
        parties=[{"side": "applicant", "kind": "person", "name": "张三丰", "id_number": ID_ZHANG},
                 {"side": "respondent", "kind": "organisation", "name": "武汉市某物业服务有限公司", "uscc": USCC}])
    d = services.accept(dispute=d, actor=people["staff"], channel="court_invited", committee_id=people["committee"].pk)
    d = services.assign(dispute=d, actor=people["staff"], mediator_id=people["mediator"].pk)
    d = services.agree(dispute=transition(d, "start", people["mediator"]), actor=people["mediator"], facts="货款未付",
                       terms="被申请方于十日内支付货款五千元。", performance_method="转账")
    d = documents.document_dispute(user=people["staff"], dispute_id=d.pk)
    text = pdf_text(documents.document_pdf(dispute=d, slug="confirmation-application", user=people["staff"]))
    assert "此致武汉市武昌区人民法院（诉前调解）" in text


def test_termination_notice_gives_the_reason_and_the_routes(terminated, people):
    text = pdf_text(documents.document_pdf(dispute=terminated, slug="termination-notice", user=people["mediator"]))
    for expected in ("终止调解告知书", "张三丰、李四、武汉市某物业服务有限公司：", "经调解不能达成协议",
                     "双方对赔偿金额分歧较大", "第二十六条", "仲裁", "劳动人事争议仲裁委员会", "行政途径",
                     "司法途径", "向有管辖权的人民法院提起诉讼", "东社区人民调解委员会（印章）"):
        assert expected in text, expected
    # After `refer`, the notice names the routes the parties were told of.
    services.refer(dispute=terminated, actor=people["mediator"], routes=["court", "petition"], informed_how="当面告知")
    referred = documents.document_dispute(user=people["staff"], dispute_id=terminated.pk)
    text = pdf_text(documents.document_pdf(dispute=referred, slug="termination-notice", user=people["staff"]))
    assert "向有管辖权的人民法院提起诉讼" in text and "信访" in text
    assert "仲裁" not in text and "行政途径" not in text


def test_a_document_the_dispute_does_not_have_yet_is_a_coded_409(dispute, people):
    client = api(people["staff"])
    for slug, code in (("agreement", "no_agreement"), ("confirmation-application", "no_agreement"),
                       ("termination-notice", "not_terminated")):
        response = client.get(f"/api/v1/disputes/documents/{dispute.pk}/pdf/{slug}")
        assert response.status_code == 409, slug
        body = response.json()
        assert body["code"] == code and body["message"] and body["message_en"]
    assert client.get(f"/api/v1/disputes/documents/{dispute.pk}/pdf/contract").status_code == 400


def test_an_agreement_without_terms_is_neither_printed_nor_signed(agreed, people, settings):
    Agreement.objects.filter(dispute=agreed).update(terms="  \n ")
    response = api(people["staff"]).get(f"/api/v1/disputes/documents/{agreed.pk}/pdf/agreement")
    assert response.status_code == 409 and response.json()["code"] == "agreement_without_terms"
    response = sign(people["mediator"], agreed, party(agreed, "李四"))
    assert response.status_code == 409 and response.json()["code"] == "agreement_without_terms"
    assert not Signature.objects.exists() and stored_files(settings) == []
    # The agreement step itself refuses it (services.agree).
    with pytest.raises(Exception) as refused:
        services.agree(dispute=agreed, actor=people["mediator"], facts="事实", terms="   ", performance_method="转账")
    assert getattr(refused.value, "status", 500) < 500


# --- who may read them --------------------------------------------------------------------------------------
@pytest.mark.parametrize("who, status", [
    ("staff", 200), ("mediator", 200), ("colleague", 200), ("leader", 200), ("zhang", 200),
    ("outsider", 404), ("stranger", 404), ("grid", 404),
])
def test_documents_are_scoped_to_the_centre_committee_mediator_leaders_and_parties(agreed, people, who, status):
    client = api(people[who])
    assert client.get(f"/api/v1/disputes/documents/{agreed.pk}/pdf/agreement").status_code == status
    assert client.get(f"/api/v1/disputes/documents/{agreed.pk}").status_code == status
    assert client.get(f"/disputes/documents/{agreed.pk}/agreement.pdf").status_code == status
    assert client.get(f"/disputes/documents/{agreed.pk}/").status_code == status


def test_without_login_nothing_is_served(agreed):
    assert Client().get(f"/api/v1/disputes/documents/{agreed.pk}/pdf/agreement").status_code == 401
    assert Client().get(f"/disputes/documents/{agreed.pk}/agreement.pdf").status_code == 302  # to the login page


def test_the_index_lists_documents_and_signatures(agreed, people):
    sign(people["mediator"], agreed, party(agreed, "张三丰"))
    body = api(people["zhang"]).get(f"/api/v1/disputes/documents/{agreed.pk}").json()
    available = {d["document"]: d["available"] for d in body["documents"]}
    assert available == {"agreement": True, "confirmation-application": True, "termination-notice": False}
    rows = {r["party"]: r["signature"] for r in body["signatures"]}
    assert rows["李四"] is None
    assert rows["张三丰"]["method"] == "paper" and rows["张三丰"]["recorded_by"] == "王调解"
    assert body["can_record_signatures"] is False  # a party reads, staff record
    assert api(people["mediator"]).get(f"/api/v1/disputes/documents/{agreed.pk}").json()["can_record_signatures"]
    file_url = rows["张三丰"]["file_url"]
    response = api(people["zhang"]).get(file_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert api(people["stranger"]).get(file_url).status_code == 404


# --- signature records: what is refused, and that nothing is written then --------------------------------------
def test_a_signature_is_on_the_timeline_and_its_scan_loses_its_metadata(agreed, people):
    zhang = party(agreed, "张三丰")
    response = sign(people["mediator"], agreed, zhang)
    assert response.status_code == 201
    body = response.json()
    assert body["party"] == "张三丰" and body["method"] == "paper" and body["method_label"] == "纸质签字扫描"
    entry = list(timeline_for(Dispute.objects.get(pk=agreed.pk)))[-1]
    assert entry.action == "sign" and entry.params["party"] == zhang.pk and entry.params["method"] == "paper"
    signature = Signature.objects.get(party=zhang)
    assert signature.recorded_by == people["mediator"]
    with signature.file.open("rb") as f, Image.open(f) as img:
        assert not img.getexif()  # the phone's metadata is gone
    assert "scan" not in signature.file.name and "张三丰" not in signature.file.name  # an unguessable name


@pytest.mark.parametrize("method, data, name, status, code", [
    ("paper", b"GIF89a" + b"\x00" * 100, "scan.gif", 400, "invalid_signature_type"),
    ("paper", b"hello, this is not a scan", "scan.txt", 400, "invalid_signature_type"),
    ("paper", b"", "empty.jpg", 400, "empty_file"),
    ("paper", SCANNED_PDF.replace(b"/Type/Catalog", b"/Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>"),
     "evil.pdf", 400, "pdf_active_content"),
    ("paper", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "cut.pdf", 400, "invalid_pdf"),
    ("tablet", None, "pad.jpg", 400, "invalid_signature_type"),  # a JPEG from a tablet: only PNG
    ("tablet", "blank", "pad.png", 400, "empty_signature"),
    ("tablet", "bomb", "pad.png", 400, "image_too_large"),  # 30000 × 30000 claimed
    ("paper", "big", "scan.png", 400, "image_too_large"),  # 8000 × 8000: more than a 600 dpi A4 scan
    ("fingerprint", None, "x.jpg", 400, None),
])
def test_bad_signature_files_are_refused_and_nothing_is_written(agreed, people, settings, method, data, name, status,
                                                               code):
    if data is None:
        data = scanned_jpeg()
    elif data == "blank":
        data = tablet_png(blank=True)
    elif data == "bomb":
        data = png_header_only(30000, 30000)
    elif data == "big":
        data = png_header_only(8000, 8000)
    response = sign(people["mediator"], agreed, party(agreed, "李四"), method=method, data=data, name=name)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["message"] and body["message_en"]
    if code:
        assert body["code"] == code
    assert not Signature.objects.exists() and stored_files(settings) == []
    assert [e.action for e in timeline_for(agreed)][-1] == "agree"


def test_too_large_a_file_is_refused_with_413(agreed, people, settings):
    settings.CITYOPS_MAX_SIGNATURE_BYTES = 20_000
    big = Image.effect_noise((400, 400), 100).convert("RGB")
    out = io.BytesIO()
    big.save(out, "JPEG", quality=95)
    assert len(out.getvalue()) > 20_000
    response = sign(people["mediator"], agreed, party(agreed, "李四"), data=out.getvalue())
    assert response.status_code == 413 and response.json()["code"] == "signature_too_large"
    assert not Signature.objects.exists() and stored_files(settings) == []


def test_a_signature_for_a_party_of_another_dispute_is_refused(agreed, people, settings):
    other = services.register_dispute(
        actor=people["staff"], source="walk_in", title="另一件纠纷", description="噪音", kind="neighbour",
        lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1],
        parties=[{"side": "applicant", "kind": "person", "name": "王五", "id_number": ID_LI},
                 {"side": "respondent", "kind": "person", "name": "赵六"}])
    response = sign(people["mediator"], agreed, other.parties.get(name="王五"))
    assert response.status_code == 400 and response.json()["code"] == "party_not_in_dispute"
    assert not Signature.objects.exists() and stored_files(settings) == []


def test_one_signature_per_party(agreed, people, settings):
    li = party(agreed, "李四")
    assert sign(people["mediator"], agreed, li).status_code == 201
    response = sign(people["mediator"], agreed, li, method="tablet", data=tablet_png(), name="pad.png")
    assert response.status_code == 409 and response.json()["code"] == "already_signed"
    assert Signature.objects.count() == 1 and len(stored_files(settings)) == 1


def test_only_the_mediator_and_centre_staff_record_signatures(agreed, people):
    for who in ("zhang", "leader", "colleague"):
        response = sign(people[who], agreed, party(agreed, "张三丰"))
        assert response.status_code == 403 and response.json()["code"] == "signature_not_allowed", who
    assert sign(people["outsider"], agreed, party(agreed, "张三丰")).status_code == 404
    assert not Signature.objects.exists()


def test_signing_is_open_only_while_the_agreement_awaits_confirmation(agreed, people):
    sign_everyone(agreed, people)
    requested = services.request_confirmation(dispute=agreed, actor=people["mediator"], court="武汉市武昌区人民法院")
    Signature.objects.filter(party=party(requested, "张三丰")).delete()  # as if one had not signed
    response = sign(people["mediator"], requested, party(requested, "张三丰"))
    assert response.status_code == 409 and response.json()["code"] == "signing_closed"
    assert Signature.objects.count() == 2


def test_signing_before_an_agreement_is_refused(dispute, people):
    response = sign(people["mediator"], dispute, party(dispute, "张三丰"))
    assert response.status_code == 409 and response.json()["code"] == "signing_closed"


# --- the page --------------------------------------------------------------------------------------------------
def test_the_page_offers_documents_and_the_signature_forms_to_the_mediator(agreed, people):
    html = api(people["mediator"]).get(f"/disputes/documents/{agreed.pk}/").content.decode()
    assert f'href="/disputes/documents/{agreed.pk}/agreement.pdf"' in html
    assert f'href="/disputes/documents/{agreed.pk}/confirmation-application.pdf"' in html
    assert 'id="doc-termination-notice"' in html and "调解未终止" in html
    assert 'id="form-paper"' in html and 'id="form-tablet"' in html and "signature_pad.js" in html
    # A party sees the documents, not the forms.
    html = api(people["zhang"]).get(f"/disputes/documents/{agreed.pk}/").content.decode()
    assert "agreement.pdf" in html and 'id="form-paper"' not in html and "未签署" in html


def test_the_tablet_pad_and_the_scan_upload_record_signatures_from_the_page(agreed, people):
    client = api(people["mediator"])
    url = f"/disputes/documents/{agreed.pk}/signatures/"
    pad = "data:image/png;base64," + base64.b64encode(tablet_png()).decode()
    response = client.post(url, {"method": "tablet", "party_id": party(agreed, "张三丰").pk, "image": pad}, follow=True)
    assert "已记录 张三丰 的签名" in response.content.decode()
    response = client.post(url, {"method": "paper", "party_id": party(agreed, "李四").pk,
                                 "file": _upload(scanned_jpeg(), "scan.jpg")}, follow=True)
    assert "已记录 李四 的签名" in response.content.decode()
    methods = dict(Signature.objects.values_list("party__name", "method"))
    assert methods == {"张三丰": "tablet", "李四": "paper"}
    # A blank pad and a bad data URL are refused with the page's message, nothing written.
    for image in ("data:image/png;base64," + base64.b64encode(tablet_png(blank=True)).decode(),
                  "data:image/png;base64,@@@", "javascript:alert(1)"):
        company = party(agreed, "武汉市某物业服务有限公司")
        response = client.post(url, {"method": "tablet", "party_id": company.pk, "image": image}, follow=True)
        assert response.status_code == 200 and "msg-error" in response.content.decode()
    assert Signature.objects.count() == 2
    # The English page says it in English.
    client.cookies["django_language"] = "en"
    response = client.post(url, {"method": "tablet", "party_id": "abc", "image": pad}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")
    assert "Choose the party who signed" in response.content.decode()


def test_a_document_not_there_yet_sends_the_page_back_with_the_reason(agreed, people):
    response = api(people["staff"]).get(f"/disputes/documents/{agreed.pk}/termination-notice.pdf", follow=True)
    assert response.redirect_chain[-1][0] == f"/disputes/documents/{agreed.pk}/"
    assert "调解未终止" in response.content.decode()


def test_hostile_requests_are_coded_4xx_and_write_nothing(agreed, people, settings):
    client = api(people["mediator"])
    url = f"/api/v1/disputes/documents/{agreed.pk}/signatures"
    li = party(agreed, "李四")
    answers = [
        client.post(url, {"party_id": li.pk, "method": "paper"}),  # no file
        client.post(url, {"party_id": 10**30, "method": "paper", "file": _upload(scanned_jpeg(), "a.jpg")}),
        client.post(url, {"party_id": li.pk, "method": "paper\x00", "file": _upload(scanned_jpeg(), "a.jpg")}),
        client.post(url, {"party_id": li.pk, "method": "tablet", "file": _upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
                                                                                "pad.png")}),
        client.post(url, data='{"party_id": 1}', content_type="application/json"),
        client.get(f"/api/v1/disputes/documents/{10**30}/pdf/agreement"),
        client.get(f"/api/v1/disputes/documents/{agreed.pk}/signatures/{10**30}/file"),
        client.get(f"/api/v1/disputes/documents/{agreed.pk}/signatures/999999/file"),
    ]
    for response in answers:
        assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
        body = response.json()
        assert body["code"] and body["message"] and body["message_en"]
    assert not Signature.objects.exists() and stored_files(settings) == []
    # The pages: a huge id is a 404 page, a bad party id a message.
    assert client.get(f"/disputes/documents/{10**30}/").status_code == 404
    assert client.get(f"/disputes/documents/{agreed.pk}/signatures/{10**30}/file").status_code == 404


def test_the_documents_stay_chinese_on_an_english_page(agreed, people):
    client = api(people["staff"])
    client.cookies["django_language"] = "en"
    response = client.get(f"/disputes/documents/{agreed.pk}/agreement.pdf", HTTP_ACCEPT_LANGUAGE="en")
    text = pdf_text(response.content)
    assert "申请方：张三丰" in text and "自然人" in text and "Applicant" not in text


def test_the_page_speaks_english(agreed, people):
    client = api(people["mediator"])
    client.cookies["django_language"] = "en"
    html = client.get(f"/disputes/documents/{agreed.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for expected in ("Dispute documents", "Mediation agreement", "Application for judicial confirmation",
                     "Mediation of this dispute was not terminated", "Signed on paper: upload the scan",
                     "Signature on a tablet", "Not signed"):
        assert expected in html, expected
