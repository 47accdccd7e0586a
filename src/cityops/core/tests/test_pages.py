import pytest
from django.test import Client

from cityops.core.notify import notify

pytestmark = pytest.mark.django_db


def test_login_required_for_the_home_page():
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "fixture, expected, absent",
    [
        ("operator", "上报受理", "派遣队列"),
        ("dispatcher", "派遣队列", "上报受理"),
        ("handler_hw", "本部门待办", "派遣队列"),
        ("grid_worker", "待核查", "派遣队列"),
        ("resident", "我要反映问题", "派遣队列"),  # a resident's home is the portal (issue 13)
        ("leader", "综合评价", "上报受理"),
    ],
)
def test_home_page_fits_the_role(request, fixture, expected, absent):
    client = Client()
    client.force_login(request.getfixturevalue(fixture))
    html = client.get("/", follow=True).content.decode()
    assert expected in html and absent not in html


def test_english_switch_translates_the_page(operator):
    client = Client()
    client.force_login(operator)
    assert "工作台" in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "Workbench" in html and "Report intake" in html
    assert 'lang="en"' in html


def test_inbox_shows_only_my_notifications(operator, dispatcher):
    notify(recipients=[operator], kind="test", title="给受理员的通知")
    notify(recipients=[dispatcher], kind="test", title="给派遣员的通知")
    client = Client()
    client.force_login(operator)
    html = client.get("/inbox/").content.decode()
    assert "给受理员的通知" in html and "给派遣员的通知" not in html


def test_api_docs_and_openapi_are_served():
    client = Client()
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "cityops API"
    assert client.get("/api/v1/docs").status_code == 200


def test_admin_works_for_reference_data(make_user):
    admin = make_user("t_admin", "admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/accounts/orgunit/").status_code == 200
    assert client.get("/admin/core/timelineentry/").status_code == 200
    for path in ("/admin/cases/category/", "/admin/cases/routingrule/add/", "/admin/geo/region/", "/admin/iot/device/"):
        assert client.get(path).status_code == 200, path


def test_reference_data_edited_in_the_admin_is_on_the_timeline(make_user):
    from cityops.accounts.models import OrgUnit
    from cityops.core.timeline import timeline_for

    admin = make_user("t_admin2", "admin", is_staff=True, is_superuser=True)
    unit = OrgUnit.objects.create(code="HW", name="环境卫生管理处", kind="department")
    client = Client()
    client.force_login(admin)
    response = client.post(
        f"/admin/accounts/orgunit/{unit.pk}/change/",
        {"code": "HW", "name": "市环境卫生管理处", "name_en": "Sanitation", "kind": "department", "region_code": "", "active": "on"},
    )
    assert response.status_code == 302
    entry = timeline_for(unit).get()
    assert (entry.action, entry.actor_id) == ("reference_change", admin.pk)
    assert entry.params["changed"]["name"] == ["环境卫生管理处", "市环境卫生管理处"]


def test_admin_user_and_token_changes_are_on_the_timeline(make_user):
    """Who may see what (groups, units) is reference data too: an admin change of a user's groups is on the
    user's timeline (after the many-to-many save), never with the password hash; revoking a token from the
    admin goes through the service and its entry."""
    from django.contrib.auth.models import Group

    from cityops.accounts.models import ApiToken, User
    from cityops.accounts.services import api_token_create
    from cityops.core.timeline import timeline_for

    admin = make_user("t_admin3", "admin", is_staff=True, is_superuser=True)
    target = make_user("t_target", "resident")
    Group.objects.get_or_create(name="dispatcher")
    client = Client()
    client.force_login(admin)
    form = client.get(f"/admin/accounts/user/{target.pk}/change/").context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (list, tuple))}
    data.update({
        "username": target.username, "date_joined_0": "2026-11-25", "date_joined_1": "09:00:00",
        "groups": [g.pk for g in Group.objects.filter(name__in=["resident", "dispatcher"])],
        "region_codes": "[]", "is_active": "on",
    })
    response = client.post(f"/admin/accounts/user/{target.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    entry = timeline_for(target).filter(action="reference_change").get()
    assert entry.params["changed"]["groups"] == [["resident"], ["dispatcher", "resident"]]
    assert "password" not in entry.params["changed"]
    _token, _secret = api_token_create(user=target, name="x")
    token = ApiToken.objects.get(user=target)
    response = client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert timeline_for(User.objects.get(pk=target.pk)).filter(action="token_revoke").count() == 1
