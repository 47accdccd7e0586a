import io

import pytest
from PIL import Image

from cityops.cases import services as s
from cityops.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


def jpeg_bytes(with_gps: bool = False) -> bytes:
    img = Image.new("RGB", (32, 24), (200, 30, 30))
    out = io.BytesIO()
    if with_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"
        gps = exif.get_ifd(0x8825)
        gps[1] = "N"
        gps[2] = (30.0, 33.0, 0.0)
        img.save(out, "JPEG", exif=exif)
    else:
        img.save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_DIR = tmp_path


def test_exif_and_gps_are_stripped_from_the_public_copy(new_case, operator):
    case = new_case()
    data = jpeg_bytes(with_gps=True)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    photo = s.case_photo_add(case=case, actor=operator, data=data, filename="x.png")
    assert photo.content_type == "image/jpeg"  # sniffed, not from the name
    public = Image.open(photo.public.open("rb"))
    assert not public.getexif() and "exif" not in public.info


def test_png_and_webp_are_accepted(new_case, operator):
    case = new_case()
    for fmt, ctype in (("PNG", "image/png"), ("WEBP", "image/webp")):
        out = io.BytesIO()
        Image.new("RGB", (8, 8)).save(out, fmt)
        assert s.case_photo_add(case=case, actor=operator, data=out.getvalue()).content_type == ctype


def test_refusals(new_case, operator, settings):
    case = new_case()
    with pytest.raises(InvalidInput) as e:
        s.case_photo_add(case=case, actor=operator, data=b"GIF89a....")
    assert e.value.code == "invalid_image_type"
    with pytest.raises(InvalidInput) as e:
        s.case_photo_add(case=case, actor=operator, data=b"\xff\xd8\xff" + b"garbage" * 10)
    assert e.value.code == "invalid_image"
    settings.CITYOPS_MAX_PHOTO_BYTES = 100
    with pytest.raises(InvalidInput) as e:
        s.case_photo_add(case=case, actor=operator, data=jpeg_bytes())
    assert e.value.code == "photo_too_large"


def test_at_most_nine(new_case, operator):
    case = new_case()
    for _ in range(9):
        s.case_photo_add(case=case, actor=operator, data=jpeg_bytes())
    with pytest.raises(InvalidInput) as e:
        s.case_photo_add(case=case, actor=operator, data=jpeg_bytes())
    assert e.value.code == "too_many_photos"


# --- photo kinds belong to steps (issue 10 §4) ------------------------------------------------------------------
def refused(case, actor, kind, status):
    from cityops.core.errors import CityopsError

    with pytest.raises(CityopsError) as e:
        s.case_photo_add(case=case, actor=actor, data=jpeg_bytes(), kind=kind)
    assert (e.value.status, e.value.code) == (status, {403: "photo_not_allowed", 409: "photo_wrong_step"}[status])
    assert e.value.message and e.value.message_en
    return e.value


def test_report_photos_by_the_reporter_or_intake_before_dispatch(new_case, walk, operator, resident, leader, dispatcher,
                                                                 handler_hw, grid_worker):
    mine = s.case_create(actor=resident, category="E0101", lon=114.31, lat=30.55, description="垃圾").case
    s.case_photo_add(case=mine, actor=resident, data=jpeg_bytes(), kind="report")
    s.case_photo_add(case=mine, actor=None, data=jpeg_bytes(), kind="report")  # the portal, on the visitor's behalf
    case = new_case()
    s.case_photo_add(case=case, actor=operator, data=jpeg_bytes(), kind="report")
    for who in (leader, dispatcher, handler_hw):
        refused(case, who, "report", 403)
    refused(case, grid_worker, "report", 409)  # only once asked to check it (核实)
    refused(mine, resident, "handled", 403)
    refused(mine, resident, "verify", 403)
    case = walk(case, "registered")
    s.case_photo_add(case=case, actor=operator, data=jpeg_bytes(), kind="report")
    case = s.case_dispatch(case=case, actor=dispatcher, department="HW")
    refused(case, operator, "report", 409)


def test_handling_photos_by_the_lead_department_while_handling(new_case, walk, handler_hw, handler_cg, leader, operator):
    case = walk(new_case(), "dispatched")
    refused(case, handler_hw, "handled", 409)  # not accepted yet
    case = s.case_accept(case=case, actor=handler_hw)
    s.case_photo_add(case=case, actor=handler_hw, data=jpeg_bytes(), kind="handled")
    refused(case, handler_cg, "handled", 403)
    refused(case, leader, "handled", 403)
    refused(case, operator, "handled", 403)
    refused(case, handler_hw, "verify", 403)
    case = s.case_handle(case=case, actor=handler_hw, result="已清理")
    refused(case, handler_hw, "handled", 409)  # marked handled: the evidence is in; verification is next


def test_verification_photos_by_the_verifying_grid_worker(new_case, walk, grid_worker, grid_worker_b, handler_hw,
                                                          operator):
    case = walk(new_case(), "accepted")
    refused(case, grid_worker, "verify", 409)
    case = s.case_handle(case=case, actor=handler_hw, result="已清理")
    s.case_photo_add(case=case, actor=grid_worker, data=jpeg_bytes(), kind="verify")
    refused(case, grid_worker_b, "verify", 403)  # not the worker of that place
    refused(case, grid_worker, "handled", 403)
    # 核实 (the check before registration) is part of the report step: the worker asked to check adds report photos.
    checking = s.case_ask_check(case=new_case(description="另一处"), actor=operator)
    s.case_photo_add(case=checking, actor=grid_worker, data=jpeg_bytes(), kind="report")
    refused(checking, grid_worker_b, "report", 403)


def test_photo_refusals_over_the_api_and_the_page(new_case, walk, resident, leader, api_client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    case = s.case_create(actor=resident, category="E0101", lon=114.31, lat=30.55, description="垃圾").case
    r = api_client_for(resident).post(f"/api/v1/cases/{case.code}/photos",
                                      {"file": SimpleUploadedFile("a.jpg", jpeg_bytes()), "kind": "handled"})
    assert r.status_code == 403 and r.json()["code"] == "photo_not_allowed" and r.json()["message_en"]
    web = Client()
    web.force_login(leader)
    page = web.get(f"/cases/{case.code}/").content.decode()
    assert 'action="/cases/' + case.code + '/photos/"' not in page  # no upload form for a leader
    buffer = io.BytesIO(jpeg_bytes())
    buffer.name = "a.jpg"
    response = web.post(f"/cases/{case.code}/photos/", {"photos": [buffer], "kind": "report"}, follow=True)
    assert any("photo" in str(m).lower() or "照片" in str(m) for m in response.context["messages"])
    assert case.photos.count() == 0
