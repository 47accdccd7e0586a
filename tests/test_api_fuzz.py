"""The whole OpenAPI document, fuzzed (issue 10): schemathesis generates requests for every operation, valid and
invalid, as an administrator and as a resident, against the demo city with cases, devices and an alarm in it.

Checked on every answer: no server error, the status code, content type, headers and body are the ones the
document gives, and a request that breaks the schema is refused. Not checked: that every schema-valid request
is accepted — a made-up category code, a point outside the city or an action in the wrong state are refused by
the city's rules, which no schema can express.

`make fuzz` runs it with more examples (CITYOPS_FUZZ_EXAMPLES); the suite runs a smaller number.
"""

import os
import zlib

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import load_all_checks
from schemathesis.specs.openapi.checks import positive_data_acceptance

load_all_checks()
EXAMPLES = int(os.environ.get("CITYOPS_FUZZ_EXAMPLES", "6"))
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(scope="module")
def _city_once(_wuhan_session, django_db_blocker):
    """The demo city's reference data and users, a few cases in several states, IoT devices and an alarm — made
    once for the module's 300 tests, inside a transaction that is rolled back when the module ends. Each test runs
    in a savepoint of it (pytest-django's own transaction per test), so what one test's requests change is undone
    before the next, as if each had made the city itself."""
    from django.db import transaction
    from django.utils import timezone

    from cityops.accounts.demo import load_demo_users, load_departments, load_roles
    from cityops.accounts.models import User
    from cityops.cases import services as cases
    from cityops.cases.demo import load_categories
    from cityops.cases.models import Case
    from cityops.geo.demo import load_demo_geography
    from cityops.geo.models import Region
    from cityops.iot.demo import load_demo as load_iot
    from cityops.iot.models import Device, Rule
    from cityops.iot.services import alarm_raise

    with django_db_blocker.unblock():
        module_transaction = transaction.atomic()
        module_transaction.__enter__()
        try:
            if not Region.objects.filter(code="420100").exists():  # a transactional test flushed the session's city
                load_demo_geography()
            load_roles()
            load_departments()
            load_categories()
            load_demo_users(password="pw-cityops-test")
            load_iot(devices=3)
            users = {u.username: u for u in User.objects.all()}
            codes = []
            for i, (lon, lat) in enumerate([(114.3162, 30.5434), (114.2734, 30.5951), (114.3055, 30.5928)]):
                case = cases.case_create(actor=users["resident"], category="E0101", lon=lon, lat=lat,
                                         description=f"测试 {i}", reporter_phone="13800000000").case
                codes.append(case.code)
            cases.case_register(case=Case.objects.get(code=codes[1]), actor=users["operator"])
            device = Device.objects.first()
            rule = Rule.objects.filter(metric__in=list(device.metrics or {})).first() or Rule.objects.first()
            alarm = alarm_raise(device_id=device.pk, rule=rule, value=999.0, ts=timezone.now())
        except BaseException:
            transaction.set_rollback(True)
            module_transaction.__exit__(None, None, None)
            raise
    # Django closes the connection at the end of each request; the module's transaction must outlive them.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {"users": users, "cases": codes, "devices": [device.code], "alarms": [alarm.pk]}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        module_transaction.__exit__(None, None, None)


@pytest.fixture
def city(_city_once, db):
    """The module's city, in this test's own transaction (a savepoint: rolled back after the test)."""
    return _city_once


def _aim(case, city) -> None:
    """Half of the generated ids are swapped for ones that exist, chosen from the generated value (so a failure
    reproduces), so that the fuzzer reaches past 404 into the handlers."""
    params = case.path_parameters or {}
    for name, pool in (("code", city["devices"] if "/devices/" in case.path else city["cases"]),
                       ("alarm_id", city["alarms"])):
        if name in params:
            digest = zlib.crc32(str(params[name]).encode())
            if digest % 2 == 0:
                params[name] = pool[digest // 2 % len(pool)]


def _bearer(user) -> dict:
    from cityops.accounts.services import api_token_create

    _token, secret = api_token_create(user=user, name="fuzz")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.slow
@pytest.mark.parametrize("username", ["admin", "resident"])
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck), database=None)
def test_api_document(case, username, city):
    _aim(case, city)
    case.call_and_validate(headers=_bearer(city["users"][username]), excluded_checks=[positive_data_acceptance])
