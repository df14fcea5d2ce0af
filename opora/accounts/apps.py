from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "opora.accounts"
    verbose_name = "Opora: staff and API tokens"
