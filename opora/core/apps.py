from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _

# Admin section titles of the libraries we use, which ship English ones ("Axes", "Otp_Totp").
# Set here rather than through AppConfig subclasses in INSTALLED_APPS: the app labels and the
# libraries' own ready() stay exactly as they are.
LIBRARY_SECTION_TITLES = {
    "axes": _("Sign-in attempts"),
    "otp_totp": _("Two-factor sign-in devices"),
}
# ... and model names that have no Russian or Kazakh translation in the library ("TOTP devices").
LIBRARY_MODEL_NAMES = {
    ("otp_totp", "totpdevice"): (_("two-factor sign-in device"), _("Two-factor sign-in devices")),
}


class CoreConfig(AppConfig):
    name = "opora.core"
    verbose_name = _("Reference data and audit")

    def ready(self) -> None:
        from opora.core import residency  # noqa: F401 (registers the data-residency check)

        installed = {config.label: config for config in apps.get_app_configs()}
        for label, title in LIBRARY_SECTION_TITLES.items():
            if label in installed:
                installed[label].verbose_name = title
        for (label, model_name), (singular, plural) in LIBRARY_MODEL_NAMES.items():
            if label in installed:
                meta = installed[label].get_model(model_name)._meta
                meta.verbose_name, meta.verbose_name_plural = singular, plural
