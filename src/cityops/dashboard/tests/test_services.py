"""The worker's run (services.early_warning_run): a spike raises one warning, on the timeline, with the cases that
make it up and the region and category by name, and notifies the duty officer (值班长) — not residents or
departments; a second run raises no second warning while it stays open; it closes itself once the counts are back
to normal; a street's warning is taken into its district's. A slow spike around one site (three complaints within
150 m where none are usually made) raises a warning of its community with the site's cases, drawn at the site; the
same three where the category is always reported raise nothing; a site's warning is taken into its district's. Two
complaints minutes apart where nothing is ever reported raise one; the same two 45 minutes apart do not (a block
needs three in the hour)."""

from datetime import timedelta

import pytest
from django.test import override_settings

from cityops.core.models import Notification
from cityops.core.timeline import timeline_for
from cityops.dashboard.models import EarlyWarning
from cityops.dashboard.services import early_warning_run

from .conftest import JIANGAN_STREET, NOW, WUCHANG, WUCHANG_STREET

SPIKE = [2, 5, 8, 11, 14, 17, 20, 23, 26, 28]  # minutes before NOW: ten noise complaints in half an hour


@pytest.fixture
def people(make_user):
    from cityops.core import roles

    return {
        "shift_lead": make_user("ew_shiftlead", roles.SHIFT_LEAD),
        "leader": make_user("ew_leader", roles.LEADER),
        "wuchang": make_user("ew_wuchang", roles.DISTRICT_DISPATCHER, region_codes=["420106"]),
        "jiangan": make_user("ew_jiangan", roles.DISTRICT_DISPATCHER, region_codes=["420102"]),
        "resident": make_user("ew_resident", roles.RESIDENT),
        "handler": make_user("ew_handler", roles.DEPT_HANDLER, org_units=["HB"]),
    }


def notified(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind="early_warning"))


def test_a_spike_raises_one_warning_with_its_cases_and_notifies_the_shift_lead(
        quiet_history, add_cases, people, django_capture_on_commit_callbacks):
    spike = add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=m) for m in SPIKE])
    with django_capture_on_commit_callbacks(execute=True):
        done = early_warning_run(now=NOW)
    assert done.get("raised") == 1
    warning = EarlyWarning.objects.get()
    # The district's series spikes too: its warning is the one raised, the street's is not raised beside it.
    assert (warning.region_code, warning.region_name, warning.state) == ("420106", "武昌区", "open")
    assert warning.category.code == "E0106" and warning.observed >= 10
    assert {c.pk for c in spike} <= set(warning.cases.values_list("pk", flat=True))
    entry = timeline_for(warning).get()
    assert entry.action == "raise" and set(entry.params["cases"]) >= {c.pk for c in spike}
    [message] = notified(people["shift_lead"])
    assert "武昌区" in message.title and "噪声扰民" in message.title and message.url == f"/dashboard/warnings/{warning.pk}/"
    assert len(notified(people["wuchang"])) == 1  # the district's own command centre
    for other in ("jiangan", "resident", "handler", "leader"):
        assert notified(people[other]) == []


@override_settings(CITYOPS_EARLY_WARNING_NOTIFY_LEADERS=True)
def test_leaders_are_notified_when_the_city_says_so(quiet_history, add_cases, people, django_capture_on_commit_callbacks):
    add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=m) for m in SPIKE])
    with django_capture_on_commit_callbacks(execute=True):
        early_warning_run(now=NOW)
    assert len(notified(people["leader"])) == 1


def test_one_open_warning_until_it_subsides(quiet_history, add_cases, people, django_capture_on_commit_callbacks):
    add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=m) for m in SPIKE])
    with django_capture_on_commit_callbacks(execute=True):
        early_warning_run(now=NOW)
        later = add_cases("E0106", WUCHANG_STREET, [NOW + timedelta(minutes=m) for m in (1, 2, 3)])
        done = early_warning_run(now=NOW + timedelta(minutes=5))  # still high: kept, no second warning
    assert done.get("raised") is None and done.get("kept", 0) >= 1
    warning = EarlyWarning.objects.get()
    assert {c.pk for c in later} <= set(warning.cases.values_list("pk", flat=True))
    assert len(notified(people["shift_lead"])) == 1
    early_warning_run(now=NOW + timedelta(minutes=50))  # calm again perhaps, but not for an hour yet
    assert EarlyWarning.objects.get().state == "open"
    done = early_warning_run(now=NOW + timedelta(minutes=130))
    assert done.get("subsided") == 1
    warning = EarlyWarning.objects.get()
    assert warning.state == "closed" and warning.closed_at is not None
    assert [e.action for e in timeline_for(warning)] == ["raise", "subside"]


def test_a_street_warning_is_taken_into_its_district_warning(quiet_history, add_cases, categories, people):
    # Lots of everyday noise complaints in another street of the district: a few more in our street stand out there,
    # not in the district.
    from cityops.geo.models import Region

    busy = "420106002"
    # update_or_create: a session that loaded Wuhan's demo regions earlier has a street with this code already.
    district = Region.objects.get(code="420106")
    Region.objects.update_or_create(code=busy, defaults={"name": "水果湖街道", "level": "street", "parent": district, **{
        k: getattr(district, k) for k in ("geometry", "min_lon", "min_lat", "max_lon", "max_lat", "centroid_lon",
                                          "centroid_lat", "area_km2")}})
    add_cases("E0106", busy, [NOW - timedelta(hours=6 * 168) + timedelta(minutes=30 * i) for i in range(6 * 168 * 2)])
    add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=m) for m in SPIKE])
    early_warning_run(now=NOW)
    street = EarlyWarning.objects.get()
    assert street.region_level == "street" and street.region_name == "中南路街道"
    # Then the whole district spikes.
    add_cases("E0106", busy, [NOW + timedelta(minutes=1 + m / 2) for m in range(40)])
    done = early_warning_run(now=NOW + timedelta(minutes=25))
    assert done.get("raised") == 1 and done.get("merged") == 1
    street.refresh_from_db()
    district = EarlyWarning.objects.get(region_code="420106")
    assert street.state == "closed" and [e.action for e in timeline_for(street)][-1] == "merge"
    assert district.state == "open"
    assert set(street.cases.values_list("pk", flat=True)) <= set(district.cases.values_list("pk", flat=True))


def test_the_database_refuses_a_second_open_warning(quiet_history, add_cases, people):
    from django.db import IntegrityError, transaction

    add_cases("E0106", JIANGAN_STREET, [NOW - timedelta(minutes=m) for m in SPIKE])
    early_warning_run(now=NOW)
    first = EarlyWarning.objects.get()
    copy = EarlyWarning(category=first.category, region_code=first.region_code, region_level=first.region_level,
                        region_name=first.region_name, started_at=first.started_at, window_minutes=30, observed=1,
                        expected=0.1, score=6, state="open")
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_the_worker_runs_it_periodically(quiet_history, add_cases, people):
    from django.conf import settings

    from cityops.core.tasks import periodic_tasks

    task, interval = periodic_tasks()["early_warning"]
    assert interval == "CITYOPS_EARLY_WARNING_INTERVAL" and getattr(settings, interval) == 300
    assert task.call() == {}  # nothing spikes now (the history ended weeks before today)


def test_a_warning_closed_by_a_person_meanwhile_does_not_stop_the_run(quiet_history, add_cases, people):
    from cityops.dashboard.services import early_warning_close

    add_cases("E0106", JIANGAN_STREET, [NOW - timedelta(minutes=m) for m in SPIKE])
    early_warning_run(now=NOW)
    warning = EarlyWarning.objects.get()
    stale = EarlyWarning.objects.get(pk=warning.pk)  # the run's view, loaded before the shift lead closes it
    early_warning_close(warning=warning, actor=people["shift_lead"], note="已处置")
    from cityops.dashboard import services

    assert services._close_by_system(stale, "subside", now=NOW + timedelta(hours=2)) is False
    assert [e.action for e in timeline_for(warning)] == ["raise", "close"]
    add_cases("E0106", WUCHANG_STREET, [NOW + timedelta(hours=2) - timedelta(minutes=m) for m in SPIKE])
    assert early_warning_run(now=NOW + timedelta(hours=2)).get("raised") == 1


def test_a_spike_closed_by_the_shift_lead_is_not_warned_of_again_within_the_hour(quiet_history, add_cases, people):
    from cityops.dashboard.services import early_warning_close

    add_cases("E0106", JIANGAN_STREET, [NOW - timedelta(minutes=m) for m in SPIKE])
    early_warning_run(now=NOW)
    early_warning_close(warning=EarlyWarning.objects.get(), actor=people["shift_lead"], note="施工许可内，已知")
    add_cases("E0106", JIANGAN_STREET, [NOW + timedelta(minutes=m) for m in (1, 2, 3, 4)])
    assert early_warning_run(now=NOW + timedelta(minutes=5)).get("raised") is None  # still high: not again at once
    assert EarlyWarning.objects.count() == 1
    add_cases("E0106", JIANGAN_STREET, [NOW + timedelta(minutes=70 + m) for m in range(0, 28, 3)])
    assert early_warning_run(now=NOW + timedelta(minutes=100)).get("raised") == 1  # high again after the hour


# --- a slow spike around one site (early_warning._local_findings) -----------------------------------------------
SITE = (114.372, 30.561)  # 2 km from where the streets' usual noise complaints are made (114.35, 30.55)
SITE_COMMUNITY = WUCHANG_STREET + "004"


def _near(point, east_m: float, north_m: float) -> tuple[float, float]:
    return point[0] + east_m / 96_000, point[1] + north_m / 110_574


def test_three_reports_around_one_site_raise_a_warning_of_their_community(
        quiet_history, add_cases, people, django_capture_on_commit_callbacks):
    # Three noise complaints within 150 m in 25 minutes: for the district (a complaint every five hours) three in
    # half an hour are unusual but not alarming; where no one ever complained of anything they are.
    site = [add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=m)], at=_near(SITE, dx, dy),
                      community=SITE_COMMUNITY)[0]
            for m, dx, dy in ((24, 0, 0), (13, 90, -40), (4, -60, 110))]
    elsewhere = add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=9)], at=(114.35, 30.55))
    with django_capture_on_commit_callbacks(execute=True):
        done = early_warning_run(now=NOW)
    assert done.get("raised") == 1
    warning = EarlyWarning.objects.get()
    assert (warning.region_level, warning.region_code, warning.category.code) == ("community", SITE_COMMUNITY, "E0106")
    assert warning.observed == 3 and warning.score >= 7
    # It carries the site's cases, not the complaint made 2 km away meanwhile.
    assert set(warning.cases.values_list("pk", flat=True)) == {c.pk for c in site}
    assert set(timeline_for(warning).get().params["cases"]) == {c.pk for c in site}
    assert elsewhere[0].pk not in set(warning.cases.values_list("pk", flat=True))
    [message] = notified(people["shift_lead"])
    assert "噪声扰民" in message.title and message.url == f"/dashboard/warnings/{warning.pk}/"
    assert len(notified(people["wuchang"])) == 1
    # On the map it is drawn at the site, not at a region's centre.
    from cityops.dashboard.layers import View, warnings_layer

    [feature] = warnings_layer(people["shift_lead"], View(box=None, zoom=12, filters={}))["features"]
    lon, lat = feature["geometry"]["coordinates"]
    assert abs(lon - SITE[0]) < 0.002 and abs(lat - SITE[1]) < 0.002
    # Another complaint at the site five minutes later joins it; no second warning.
    later = add_cases("E0106", WUCHANG_STREET, [NOW + timedelta(minutes=2)], at=_near(SITE, 30, 30),
                      community=SITE_COMMUNITY)
    done = early_warning_run(now=NOW + timedelta(minutes=5))
    assert done.get("raised") is None and EarlyWarning.objects.count() == 1
    assert later[0].pk in set(warning.cases.values_list("pk", flat=True))


def test_three_reports_where_the_category_is_always_reported_raise_nothing(quiet_history, add_cases, people):
    # The same three complaints at the place where the street's complaints are always made: usual there.
    add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=m) for m in (24, 13, 4)])
    assert early_warning_run(now=NOW).get("raised") is None
    assert not EarlyWarning.objects.exists()


def test_a_site_warning_is_taken_into_its_district_warning(quiet_history, add_cases, people):
    site = add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=m) for m in (24, 13, 4)], at=SITE,
                     community=SITE_COMMUNITY)
    early_warning_run(now=NOW)
    local = EarlyWarning.objects.get()
    assert local.region_level == "community"
    # Then the whole district spikes.
    add_cases("E0106", WUCHANG_STREET, [NOW + timedelta(minutes=1 + m / 2) for m in range(30)])
    done = early_warning_run(now=NOW + timedelta(minutes=20))
    assert done.get("merged") == 1
    local.refresh_from_db()
    district = EarlyWarning.objects.get(region_code=WUCHANG)
    assert local.state == "closed" and [e.action for e in timeline_for(local)][-1] == "merge"
    assert {c.pk for c in site} <= set(district.cases.values_list("pk", flat=True))


def test_a_warning_stays_warm_while_the_hour_is_high_though_the_last_half_hour_is_quiet(quiet_history, add_cases,
                                                                                       people):
    add_cases("E0106", WUCHANG_STREET, [NOW - timedelta(minutes=m) for m in SPIKE])
    early_warning_run(now=NOW)
    # 35 minutes on: nothing new in the last 30 minutes, the spike's ten still in the last hour.
    done = early_warning_run(now=NOW + timedelta(minutes=35))
    assert done.get("kept") == 1
    assert EarlyWarning.objects.get().last_hot_at == NOW + timedelta(minutes=35)


def test_two_reports_minutes_apart_at_a_quiet_site_warn_and_two_an_hour_apart_do_not(quiet_history, add_cases,
                                                                                       people):
    # Each district reports rubbish (2,000 cases in six weeks) where its noise complaints are made, 2 km from the
    # site: nothing at all was ever reported at the site.
    busy = [NOW - timedelta(hours=6 * 168) + timedelta(minutes=30 * i + 11) for i in range(2000)]
    add_cases("E0101", WUCHANG_STREET, busy)
    add_cases("E0101", JIANGAN_STREET, busy)
    # Two noise complaints five minutes apart at the site in Wuchang; two 45 minutes apart at the same spot in
    # Jiang'an (all in this hour: the history is the whole hours before it).
    now = NOW + timedelta(minutes=55)
    burst = add_cases("E0106", WUCHANG_STREET, [now - timedelta(minutes=m) for m in (9, 4)], at=_near(SITE, 40, 20),
                      community=SITE_COMMUNITY)
    add_cases("E0106", JIANGAN_STREET, [now - timedelta(minutes=m) for m in (49, 4)], at=_near(SITE, 40, 20),
              community=JIANGAN_STREET + "004")
    # And two in Jiang'an 1 km away, both over half an hour ago (no window has enough for a block).
    add_cases("E0106", JIANGAN_STREET, [now - timedelta(minutes=m) for m in (50, 40)], at=_near(SITE, 1000, 0),
              community=JIANGAN_STREET + "005")
    assert early_warning_run(now=now).get("raised") == 1
    warning = EarlyWarning.objects.get()
    assert (warning.region_level, warning.region_code, warning.window_minutes) == ("community", SITE_COMMUNITY, 30)
    assert set(warning.cases.values_list("pk", flat=True)) == {c.pk for c in burst}
