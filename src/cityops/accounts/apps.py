from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cityops.accounts"
    label = "accounts"
    verbose_name = "账户与组织"
