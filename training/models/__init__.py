from training.models.activity import Attempt, AttemptAnswer, LessonProgress
from training.models.assignments import Assignment
from training.models.audit import AuditEvent
from training.models.notifications import Notification, WebhookDelivery
from training.models.people import (
    Engineer,
    PersonPreferences,
    Region,
    SkillLevel,
    SkillRecord,
    SupportManager,
    Team,
    Tier,
    TimeOff,
)
from training.models.readiness import ReadinessSnapshot
from training.models.tokens import ApiToken, Scope

__all__ = [
    "ApiToken",
    "Assignment",
    "Attempt",
    "AttemptAnswer",
    "AuditEvent",
    "Engineer",
    "LessonProgress",
    "Notification",
    "PersonPreferences",
    "ReadinessSnapshot",
    "Region",
    "Scope",
    "SkillLevel",
    "SkillRecord",
    "SupportManager",
    "Team",
    "Tier",
    "TimeOff",
    "WebhookDelivery",
]
