from cityops.core.tests.sample.domain import urlpatterns  # noqa: F401
