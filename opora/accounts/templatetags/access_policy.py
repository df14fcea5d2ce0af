"""`{% if user|may:"request.queue" %}`: a template asks the access policy, never tests a role.

The argument is an action's value (`opora.accounts.policy.Action`); an unknown one is an error at
once (a typo must not hide a link silently). Asked without a record: the role alone decides, as
the page's own gate does (`role_required(Action.X)`).
"""

from __future__ import annotations

from django import template

from opora.accounts import policy
from opora.accounts.actors import Subject

register = template.Library()


@register.filter
def may(actor: Subject, action: str) -> bool:
    return policy.can(actor, policy.Action(action))
