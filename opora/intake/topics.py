"""What a request is about, as the staff read it: the client's own words, or the typical question
they picked on the portal (regulation 004), with the child's age."""

from __future__ import annotations

from dataclasses import dataclass

from opora.intake.models import ServiceRequest


@dataclass(frozen=True)
class RequestTopic:
    text: str  # the reason in the client's words, else the typical question's label, else ""
    question: str  # the typical question's label when the client also wrote a reason
    child_age: int | None


def request_topic(request: ServiceRequest) -> RequestTopic:
    """The topic of `request` in the active language."""
    reason = request.reason.strip()
    question = request.get_typical_question_display() if request.typical_question else ""
    if reason:
        return RequestTopic(text=reason, question=str(question), child_age=request.child_age)
    return RequestTopic(text=str(question), question="", child_age=request.child_age)


def protocol_reason(request: ServiceRequest) -> str:
    """The first draft of the protocol's «reason in the client's words / primary request»."""
    topic = request_topic(request)
    return "\n".join(part for part in (topic.question, topic.text) if part)
