"""Who changed what, when and from where: django-auditlog records changes to the tracked models
(AUDITLOG_INCLUDE_TRACKING_MODELS in settings) with the acting user and address, shown read-only in the
Django admin.

auditlog's middleware learns the actor from the session (the Django admin). The API authenticates with JWT
inside DRF, after middleware has run, so the authentication class names the actor here once it knows it."""

from auditlog.context import auditlog_value


def audit_actor_bind(*, user) -> None:
    try:
        context = auditlog_value.get()
    except LookupError:  # outside a request: a task, a command
        return
    context["actor"] = user
