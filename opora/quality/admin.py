from django.contrib import admin

from opora.core.admin_base import AuditedAdminMixin
from opora.quality.models import QualitySettings


@admin.register(QualitySettings)
class QualitySettingsAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("service", "low_score_threshold")
