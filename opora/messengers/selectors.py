"""Reads of the messengers app: the conversations a consultant answers, and their history."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from opora.accounts import policy
from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.accounts.policy import Action
from opora.core.actors import SystemActor
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import NotFound, PermissionDenied
from opora.messengers.models import Conversation, ConversationMessage, OutgoingChatMessage
from opora.messengers.reply_files import reply_file_pk

STAFF_ROLES = Action.MESSENGER_VIEW  # what the access policy is asked


def _require(actor: Actor) -> User:
    """The staff member `actor`, if they may read messenger conversations."""
    if not (isinstance(actor, User) and policy.can(actor, STAFF_ROLES)):
        raise PermissionDenied(_("Only a consultant or the head may read messenger conversations."))
    return actor


def _visible(user: User) -> QuerySet[Conversation]:
    qs = Conversation.objects.select_related("account", "request")
    if policy.sees_every_service(user):
        return qs
    return qs.filter(account__service__in=user.services.all())


def conversations_for_staff(
    *, actor: Actor, unanswered_only: bool = True
) -> QuerySet[Conversation]:
    """Conversations of the actor's services; unanswered first (oldest waiting first)."""
    qs = _visible(_require(actor)).annotate(
        inbound_count=Count("messages", filter=Q(messages__direction="in"))
    )
    if unanswered_only:
        return qs.filter(awaiting_reply_since__isnull=False).order_by("awaiting_reply_since", "pk")
    return qs.order_by("-last_message_at", "-pk")


def conversation_get(*, actor: Actor, pk: int) -> Conversation:
    """One conversation the actor may read; the read is audited (it shows a client's messages)."""
    conversation = _visible(_require(actor)).filter(pk=pk).first()
    if conversation is None:
        raise NotFound(_("The conversation does not exist."))
    audit_record(
        actor=actor, event_type=AuditEventType.MESSENGERS_CONVERSATION_READ, subject=conversation
    )
    return conversation


def conversation_history(*, conversation: Conversation) -> QuerySet[ConversationMessage]:
    return conversation.messages.select_related("author", "outbound").order_by("created_at", "pk")


def reply_file_by_link(*, token: str) -> OutgoingChatMessage:
    """The outgoing message whose file a signed public link names (the provider fetching it,
    Viber), or NotFound for a tampered or expired link or a message without a file. Audited."""
    pk = reply_file_pk(token)
    message = (
        OutgoingChatMessage.objects.select_related("conversation", "account").filter(pk=pk).first()
        if pk is not None
        else None
    )
    if message is None or not message.file:
        raise NotFound(_("There is no such file."))
    audit_record(
        actor=SystemActor("messengers.reply_file_link"),
        event_type=AuditEventType.MESSENGERS_REPLY_FILE_DOWNLOADED,
        subject=message.conversation,
        extra={"outbound_id": message.pk, "channel": message.account.channel},
    )
    return message
