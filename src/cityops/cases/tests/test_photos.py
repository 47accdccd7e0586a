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
