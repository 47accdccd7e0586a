"""Intake of disputes from every channel (services.register_dispute): checked, located, coded, idempotent, all
or nothing — and the fixtures the other disputes-core tests share (a centre in 武昌区, two community committees,
one person per role)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cityops.accounts.models import OrgUnit
from cityops.cases.tests import conftest as cases_fixtures
from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_A
from cityops.core import roles
from cityops.core.errors import CityopsError
from cityops.core.timeline import timeline_for
from cityops.disputes import privacy, services
from cityops.disputes.models import Dispute, Party, Referrer

pytestmark = pytest.mark.django_db

# The cases tests' small two-district city (武昌区, 江岸区) and their frozen clock.
geography, reference, clock = cases_fixtures.geography, cases_fixtures.reference, cases_fixtures.clock

# Valid numbers (GB 11643 / GB 32100 check characters).
ID_A = "11010519491231002X"
ID_B = "420102199003071232"
USCC = "91110000600037341L"


def _valid_ids():
    from stdnum.cn import ric

    assert ric.is_valid(ID_A) and ric.is_valid(ID_B)


def signature_png() -> bytes:
    """A tablet signature: a stroke on a white pad."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (120, 40), "white")
    ImageDraw.Draw(img).line((10, 30, 110, 10), fill="black", width=3)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def sign_everyone(dispute, actor) -> None:
    """Every party signs the agreement on the tablet (documents' signatures.signature_record)."""
    from cityops.disputes.signatures import signature_record

    for party in dispute.parties.all():
        signature_record(dispute=dispute, actor=actor, party_id=party.pk, method="tablet", data=signature_png())


def parties(applicant="张三", respondent="李四", **extra):
    return [
        {"side": "applicant", "kind": "person", "name": applicant, "id_number": ID_A, "phone": "13812345678",
         **extra},
        {"side": "respondent", "kind": "person", "name": respondent, "id_number": ID_B, "phone": "13987654321"},
    ]


@pytest.fixture
def world(reference, make_user, settings, tmp_path):
    """武昌区's centre, two community committees (东社区, 西社区) and one person per role; 江岸区 has its own
    centre. Private files (signature scans) go to the test's own folder."""
    settings.DATA_DIR = tmp_path
    centre = OrgUnit.objects.create(code="ZX-420106", name="武昌区矛盾纠纷多元化解中心", kind=OrgUnit.Kind.CENTRE,
                                    region_code="420106")
    other_centre = OrgUnit.objects.create(code="ZX-420102", name="江岸区矛盾纠纷多元化解中心",
                                          kind=OrgUnit.Kind.CENTRE, region_code="420102")
    east = OrgUnit.objects.create(code="TW-420106001001", name="东社区人民调解委员会", kind=OrgUnit.Kind.COMMITTEE,
                                  region_code="420106001001")
    west = OrgUnit.objects.create(code="TW-420106001002", name="西社区人民调解委员会", kind=OrgUnit.Kind.COMMITTEE,
                                  region_code="420106001002")
    w = {
        "centre": centre, "other_centre": other_centre, "east": east, "west": west,
        "staff": make_user("t_centre", roles.CENTRE_STAFF, org_units=[centre.code], first_name="中心工作人员"),
        "other_staff": make_user("t_centre_ja", roles.CENTRE_STAFF, org_units=[other_centre.code]),
        "mediator": make_user("t_mediator_e", roles.MEDIATOR, org_units=[east.code], first_name="王调解"),
        "mediator2": make_user("t_mediator_e2", roles.MEDIATOR, org_units=[east.code], first_name="赵调解"),
        "mediator_w": make_user("t_mediator_w", roles.MEDIATOR, org_units=[west.code], first_name="刘调解"),
        "police": make_user("t_police", roles.POLICE_LIAISON, org_units=[centre.code], first_name="公安联络员"),
        "police_ja": make_user("t_police_ja", roles.POLICE_LIAISON, org_units=[other_centre.code]),
        "leader": make_user("t_leader_d", roles.LEADER),
        "operator": make_user("t_operator_d", roles.OPERATOR),
        "resident": make_user("t_res_a", roles.RESIDENT),
        "resident2": make_user("t_res_b", roles.RESIDENT),
        "grid": make_user("t_grid_d", roles.GRID_WORKER, region_codes=["420106001001"]),
        "grid_ja": make_user("t_grid_ja", roles.GRID_WORKER, region_codes=["420102"]),
        "court_user": make_user("t_court", roles.REFERRER),
    }
    w["court"] = Referrer.objects.create(code="FY-WC", name="武昌区人民法院", kind="court", user=w["court_user"],
                                         centre=centre)
    return w


@pytest.fixture
def walk_in(world):
    """walk_in(**overrides) registers a walk-in dispute at the 武昌 centre (东社区)."""

    def make(**kw):
        args = {"actor": world["staff"], "source": "walk_in", "title": "楼上漏水", "description": "楼上卫生间漏水至楼下",
                "kind": "neighbour", "parties": parties(), "lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1]}
        args.update(kw)
        return services.register_dispute(**args)

    return make


# --- the tests -----------------------------------------------------------------------------------------------
def test_walk_in_is_located_coded_and_on_the_timeline(world, walk_in):
    _valid_ids()
    d = walk_in(amount="1234.5")
    assert d.created and d.state == "registered"
    assert d.code.startswith("TJ") and len(d.code) == 14
    assert (d.region_code, d.community_code, d.grid_code) == ("42010600100101", "420106001001", "42010600100101")
    assert d.centre == world["centre"] and d.amount == Decimal("1234.50")
    assert d.deadline_at is not None  # the 3-working-day assignment clock
    entries = list(timeline_for(d))
    assert [e.action for e in entries] == ["register"]
    assert entries[0].params["source"] == "walk_in" and ID_A not in str(entries[0].params)
    second = walk_in(title="第二件")
    assert int(second.code[-4:]) == int(d.code[-4:]) + 1


def test_party_identity_is_encrypted_hashed_and_masked(world, walk_in):
    d = walk_in()
    a = d.parties.get(side="applicant")
    assert a.id_masked == "110105********002X" and a.phone_masked == "138****5678"
    assert ID_A not in a.id_encrypted and "13812345678" not in a.phone_encrypted
    assert a.id_hash == privacy.id_hash(ID_A) and a.id_hash != privacy.id_hash(ID_B)
    # The same person is found again through the keyed hash.
    walk_in(title="另一件")
    assert privacy.parties_by_person(ID_A).count() == 2
    # Decrypted only for those who need it.
    assert privacy.party_id_number(a, world["staff"]) == ID_A
    with pytest.raises(CityopsError) as refused:
        privacy.party_id_number(a, world["resident"])
    assert refused.value.code == "id_not_allowed" and refused.value.status == 403
    with pytest.raises(CityopsError):
        privacy.party_id_number(a, world["other_staff"])  # staff of another centre


def test_field_key_setting_encrypts_with_that_key(world, walk_in, settings):
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    settings.CITYOPS_FIELD_KEY = key
    party = walk_in().parties.get(side="respondent")
    assert Fernet(key.encode()).decrypt(party.id_encrypted.encode()).decode() == ID_B
    settings.CITYOPS_FIELD_KEY = ""
    assert privacy.decrypt(party.id_encrypted) == ""  # another key: unreadable, no crash


@pytest.mark.parametrize(("change", "code"), [
    ({"parties": parties(id_number="110105194912310021")}, "invalid_id_number"),  # wrong check digit
    ({"parties": [{"side": "applicant", "kind": "organisation", "name": "某物业公司", "uscc": "91110000600037341A"},
                  parties()[1]]}, "invalid_uscc"),
    ({"parties": parties()[:1]}, "parties_incomplete"),
    ({"parties": []}, "parties_required"),
    ({"title": "漏水\x00"}, "invalid_text"),
    ({"description": "楼上漏水\x1b[2J"}, "invalid_text"),  # any control character but line breaks and tabs (core.text)
    ({"description": ""}, "description_required"),
    ({"amount": "1e30"}, "invalid_amount"),
    ({"amount": "-1"}, "invalid_amount"),
    ({"amount": "NaN"}, "invalid_amount"),
    ({"kind": "alien"}, "invalid_kind"),
    ({"lon": None, "lat": None}, "location_required"),
    ({"parties": parties(phone="12")}, "invalid_phone"),
])
def test_bad_intake_is_refused_with_a_code_and_nothing_written(world, walk_in, change, code):
    before = (Dispute.objects.count(), Party.objects.count())
    with pytest.raises(CityopsError) as refused:
        walk_in(**change)
    assert refused.value.code == code and 400 <= refused.value.status < 500
    assert refused.value.message and refused.value.message_en
    assert (Dispute.objects.count(), Party.objects.count()) == before


def test_organisation_party_with_a_valid_uscc(world, walk_in):
    d = walk_in(kind="property", parties=[parties()[0], {"side": "respondent", "kind": "organisation",
                                                         "name": "某物业公司", "uscc": USCC.lower()}])
    org = d.parties.get(side="respondent")
    assert org.uscc == USCC and org.id_encrypted == ""


def test_idempotency_key_returns_the_first_dispute(world, walk_in):
    first = walk_in(idempotency_key="k-1")
    again = walk_in(idempotency_key="k-1", title="不同标题")
    assert again.pk == first.pk and again.created is False
    assert Dispute.objects.count() == 1


def test_each_channel_registers_only_through_its_roles(world, walk_in):
    resident = world["resident"]
    d = walk_in(actor=resident, source="portal")
    assert d.applicant == resident and d.parties.get(side="applicant").user == resident
    with pytest.raises(CityopsError) as refused:
        walk_in(actor=resident, source="walk_in")
    assert refused.value.code == "role_not_allowed"
    with pytest.raises(CityopsError) as refused:  # a resident never links another account to a party
        walk_in(actor=resident, source="portal", parties=parties(user_id=world["resident2"].pk))
    assert refused.value.code == "party_user_not_allowed"
    assert walk_in(actor=world["grid"], source="screening").source == "screening"
    assert walk_in(actor=world["operator"], source="hotline", address="").source == "hotline"
    # The centre of the place: a dispute in 江岸区 goes to 江岸区's centre.
    ja = walk_in(actor=world["operator"], source="hotline", lon=POINT_JIANGAN[0], lat=POINT_JIANGAN[1])
    assert ja.centre == world["other_centre"]


def test_referral_once_per_external_case_number(world, walk_in):
    court = world["court"]
    first = walk_in(actor=world["court_user"], source="court", referrer=court, external_ref="(2026)鄂0106民诉前调1号",
                    entrustment="court_15")
    again = walk_in(actor=world["court_user"], source="court", referrer=court, external_ref="(2026)鄂0106民诉前调1号")
    assert again.pk == first.pk and not again.created and first.centre == world["centre"]
    with pytest.raises(CityopsError) as refused:
        walk_in(actor=world["court_user"], source="police", referrer=court, external_ref="x")
    assert refused.value.code in ("invalid_source", "role_not_allowed")


def test_intake_is_a_handful_of_queries(world, walk_in):
    walk_in()
    with CaptureQueriesContext(connection) as ctx:
        walk_in(title="再来一件")
    assert len(ctx.captured_queries) < 25
