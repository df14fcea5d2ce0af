"""Admin for support staff: schedules through the services, the rest read-only.

Writes go through services (approval materialises slots, bookings notify clients), so the admin
never edits slots, bookings or hand-offs directly. Client data is not shown here: requests are
referred to by number only.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opora.core.admin_base import ReadOnlyAdmin
from opora.core.errors import DomainError
from opora.scheduling import services
from opora.scheduling.models import Booking, HandoffRun, Schedule, SchedulePeriod, Slot


class SchedulePeriodInline(admin.TabularInline):
    model = SchedulePeriod
    extra = 0
    fields = ["date", "start_time", "end_time"]
    readonly_fields = ["date", "start_time", "end_time"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _run_action(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, func: Any
) -> None:
    done = 0
    for schedule in queryset:
        try:
            func(actor=request.user, schedule=schedule)
        except DomainError as exc:
            modeladmin.message_user(request, f"{schedule}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, _("Done: %(count)d") % {"count": done}, messages.SUCCESS)


@admin.action(description=_("Submit for approval"))
def submit_schedules(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:
    _run_action(modeladmin, request, queryset, services.schedule_submit)


@admin.action(description=_("Approve and open the slots"))
def approve_schedules(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:
    _run_action(modeladmin, request, queryset, services.schedule_approve)


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyAdmin):
    list_display = ["consultant", "service", "month", "status", "submitted_at", "approved_at"]
    list_filter = ["service", "status", "month"]
    search_fields = ["consultant__username", "consultant__last_name"]
    inlines = [SchedulePeriodInline]
    actions = [submit_schedules, approve_schedules]
    list_select_related = ["consultant", "service"]


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdmin):
    list_display = ["starts_at", "ends_at", "consultant", "service", "is_open"]
    list_filter = ["service", "is_open"]
    date_hierarchy = "starts_at"
    list_select_related = ["consultant", "service"]


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ["pk", "slot", "request_id", "status", "created_at", "ended_at", "replaced_by"]
    list_filter = ["status"]
    fields = ["slot", "request_id", "status", "created_by", "created_at", "ended_at", "replaced_by"]
    readonly_fields = [
        "slot",
        "request_id",
        "status",
        "created_by",
        "created_at",
        "ended_at",
        "replaced_by",
    ]
    list_select_related = ["slot"]


@admin.register(HandoffRun)
class HandoffRunAdmin(ReadOnlyAdmin):
    list_display = ["date", "service", "request_count", "sent_at", "error"]
    list_filter = ["service"]
    date_hierarchy = "date"
