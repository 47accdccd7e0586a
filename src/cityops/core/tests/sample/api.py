from cityops.core.tests.sample.domain import router  # noqa: F401
