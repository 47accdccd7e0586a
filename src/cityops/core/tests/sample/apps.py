from django.apps import AppConfig


class SampleConfig(AppConfig):
    name = "cityops.core.tests.sample"
    label = "sample"
