from django.apps import AppConfig


class SampleConfig(AppConfig):
    name = "cityops.core.tests.sample"
    label = "sample"
    # What a domain app contributes: its API router (api.py) and its pages (urls.py), mounted by prefix.
    api_prefix = "permits"
    url_prefix = "permits/"
