"""Staff screens. URL names are stable: templates, tests and the browser tests use them."""

from django.contrib.auth import views as auth_views
from django.urls import path

from opora.accounts import security_keys, sessions, two_factor
from opora.accounts.forms import SignInForm
from opora.web.views import (
    anonymous,
    audit_log,
    authority_journals,
    base,
    breaches,
    consultant,
    coordinator,
    dashboards,
    deliveries,
    head,
    journals,
    operator,
    places,
    referrals,
    request_marks,
    responsible,
    services,
)

urlpatterns = [
    path("", base.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html",
            redirect_authenticated_user=True,
            authentication_form=SignInForm,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("2fa/", two_factor.verify, name="two_factor_verify"),
    path("2fa/setup/", two_factor.setup, name="two_factor_setup"),
    # A security key (WebAuthn) in place of the code: JSON over POST (accounts/security_keys.js)
    path("2fa/key/options/", security_keys.sign_in_options, name="security_key_sign_in_options"),
    path("2fa/key/", security_keys.sign_in, name="security_key_sign_in"),
    path("account/", sessions.account, name="account"),
    path("account/sign-out-everywhere/", sessions.sign_out_everywhere, name="sign_out_everywhere"),
    path("account/alive/", sessions.session_alive, name="session_alive"),
    path("account/recovery-codes/", two_factor.recovery_codes, name="recovery_codes"),
    path(
        "account/keys/options/",
        security_keys.register_options,
        name="security_key_register_options",
    ),
    path("account/keys/", security_keys.register, name="security_key_register"),
    path("account/keys/<int:pk>/remove/", security_keys.remove, name="security_key_remove"),
    path("authority/", base.authority_home, name="authority_home"),
    path(
        "authority/journals/<str:form>/",
        authority_journals.authority_journal,
        name="authority_journal",
    ),
    path("audit/", audit_log.audit_log, name="audit_log"),
    path("breaches/", breaches.breach_list, name="breach_list"),
    path("breaches/export.csv", breaches.breach_export, name="breach_export"),
    path("breaches/<int:pk>/", breaches.breach_detail, name="breach_detail"),
    path("breaches/<int:pk>/update/", breaches.breach_update, name="breach_update"),
    path("dashboards/", dashboards.dashboard, name="dashboards"),
    # The service a staff member of several services works in (the header's switcher)
    path("service/", services.service_switch, name="service_switch"),
    # Operator console
    path("operator/", operator.console, name="operator_console"),
    path("operator/clients/search/", operator.client_search, name="operator_client_search"),
    path("operator/check/", operator.check, name="operator_check"),
    path("operator/check/refuse/", operator.refuse_check, name="operator_refuse_check"),
    path("operator/check/redirect/", operator.redirect_check, name="operator_redirect_check"),
    path("operator/requests/new/", operator.request_new, name="operator_request_new"),
    path("operator/requests/<int:pk>/", operator.request_detail, name="operator_request"),
    path("operator/queue/", operator.queue, name="operator_queue"),
    path(
        "operator/requests/<int:pk>/referral/",
        operator.request_referral_send,
        name="operator_referral_send",
    ),
    path(
        "operator/requests/<int:pk>/count-with/",
        operator.request_count_with,
        name="operator_count_with",
    ),
    path(
        "operator/requests/<int:pk>/count-separately/",
        operator.request_count_separately,
        name="operator_count_separately",
    ),
    path("operator/requests/<int:pk>/book/", operator.request_book, name="operator_book"),
    path(
        "operator/requests/<int:pk>/consents/<int:consent_pk>/withdraw/",
        operator.consent_withdraw,
        name="operator_consent_withdraw",
    ),
    path(
        "operator/requests/<int:pk>/check/", operator.request_check, name="operator_request_check"
    ),
    path(
        "operator/requests/<int:pk>/anonymous/",
        anonymous.request_mark_anonymous,
        name="operator_request_anonymous",
    ),
    path(
        "operator/requests/<int:pk>/topic/",
        request_marks.request_set_topic,
        name="operator_request_topic",
    ),
    path(
        "operator/requests/<int:pk>/child-help/",
        request_marks.request_child_help,
        name="operator_request_child_help",
    ),
    path(
        "operator/requests/<int:pk>/card/",
        operator.request_card_update,
        name="operator_request_card_update",
    ),
    path(
        "operator/requests/<int:pk>/confirmation/",
        operator.request_confirmation,
        name="operator_confirmation",
    ),
    path("operator/requests/<int:pk>/cancel/", operator.request_cancel, name="operator_cancel"),
    path("operator/requests/<int:pk>/again/", operator.request_again, name="operator_again"),
    path(
        "operator/requests/<int:pk>/refuse/",
        operator.request_refuse,
        name="operator_request_refuse",
    ),
    path(
        "operator/requests/<int:pk>/redirect/",
        operator.request_redirect,
        name="operator_request_redirect",
    ),
    # Coordinator
    path("coordinator/schedules/", coordinator.schedules, name="coordinator_schedules"),
    path(
        "coordinator/schedules/import/",
        coordinator.schedule_import,
        name="coordinator_schedule_import",
    ),
    path(
        "coordinator/schedules/<int:pk>/submit/",
        coordinator.schedule_submit,
        name="coordinator_schedule_submit",
    ),
    path(
        "coordinator/schedules/<int:consultant_id>/<str:month>/",
        coordinator.schedule_edit,
        name="coordinator_schedule_edit",
    ),
    path("coordinator/handoff/", coordinator.handoff, name="coordinator_handoff"),
    # Regulation 001 §10: the responsible persons of the two sides (coordinator, head)
    path("responsible/", responsible.responsible_persons, name="responsible_persons"),
    # Head
    path("head/schedules/", head.schedules, name="head_schedules"),
    path("head/deliveries/", deliveries.deliveries, name="deliveries"),
    path("head/schedules/<int:pk>/approve/", head.schedule_approve, name="head_schedule_approve"),
    path("head/schedules/<int:pk>/return/", head.schedule_return, name="head_schedule_return"),
    # Rooms and addresses of the service, and the form and room of its slots (issue 12)
    path("places/", places.place_list, name="place_list"),
    path("places/new/", places.place_new, name="place_new"),
    path("places/<int:pk>/edit/", places.place_edit, name="place_edit"),
    path("places/<int:pk>/deactivate/", places.place_deactivate, name="place_deactivate"),
    path("places/slots/", places.slot_list, name="place_slots"),
    path("places/slots/<int:pk>/", places.slot_edit, name="place_slot_edit"),
    # The referral directory (everyone who handles requests reads; the head edits)
    path("referrals/", referrals.referral_list, name="referral_list"),
    path("referrals/new/", referrals.referral_new, name="referral_new"),
    path("referrals/<int:pk>/edit/", referrals.referral_edit, name="referral_edit"),
    # The journals of regulations 002, 003 and 004 (on screen and as files); the two request
    # journals keep their first addresses
    path("journals/<str:form>/", journals.journal, name="journal"),
    path("registries/requests/", journals.journal_requests, name="registry_requests"),
    path("registries/appeals/", journals.journal_appeals, name="registry_appeals"),
    # Consultant
    path("consultant/day/", consultant.day, name="consultant_day"),
]
