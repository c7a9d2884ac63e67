"""WhatsApp Cloud API (Meta): pre-approved template messages, `POST {WHATSAPP_BASE_URL}/{phone number
id}/messages` with the bearer WHATSAPP_TOKEN. The status webhook is in `whatsapp_webhook.py`.

Success is `{"messages": [{"id": "wamid.…"}], …}`; errors are `{"error": {"code", "message", "type",
"error_data", "fbtrace_id"}}`, classified by `code` as Meta asks, not by HTTP status:

- 131026 (undeliverable: the number is not on WhatsApp, or cannot take this message):
  `RecipientUnreachable`; the caller moves the message on to the next channel and keeps the number.
- 130429 (throughput), 131056 (pair rate limit), 131000 and 2 (server side): retryable.
- 131047, 131051, 132000, 132001 (template or message problems), 190 (token expired), 368 (blocked for
  policy), and any other code: permanent; they need a fix by ops, not a retry.
- An answer without Meta's error shape falls back to the HTTP status (5xx and 429 retryable).

The template of each message kind is the deployer's WHATSAPP_TEMPLATES (README "WhatsApp templates"):
`{kind: {"name", "languages": [...], "parameters": [context keys, in the template's {{1}}, {{2}}… order]}}`.
`template_mapping_problems` checks it against what each kind's context provides, for a check at start.
"""

import string
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from backend.core.http import ProviderError, provider_call
from backend.core.phone import phone_for_unifonic
from backend.providers.base import RecipientUnreachable, SendResult

PROVIDER = "whatsapp"
UNDELIVERABLE = 131026
RETRYABLE_CODES = frozenset({130429, 131056, 131000, 2})
PERMANENT_CODES = frozenset({131047, 131051, 132000, 132001, 190, 368})
MAX_PARAMETER_LENGTH = 1024  # Meta's limit for a body parameter's text (unconfirmed: defensive)
# `biz_opaque_callback_data`: any string up to 512 characters (Meta's changelog raised it from 256), which
# Meta does not process and echoes in the message's status webhooks.
MAX_CALLBACK_DATA = 512


@dataclass(frozen=True)
class Template:
    """One message kind's approved template: its name, the languages it was approved in (the first is
    the fallback), and the context keys that fill its body's {{1}}, {{2}}… in order."""

    name: str
    languages: tuple[str, ...]
    parameters: tuple[str, ...]


def _code(body: Any) -> int | None:
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    return int(code) if isinstance(code, str) and code.isdigit() else None


def _error_code(body: Any) -> str | None:
    code = _code(body)
    return None if code is None else str(code)


def _wamid(body: Any) -> str | None:
    messages = body.get("messages") if isinstance(body, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    wamid = first.get("id") if isinstance(first, dict) else None
    return wamid if isinstance(wamid, str) and wamid else None


def classify(error: ProviderError) -> ProviderError:
    """The error as Meta's `code` says it should be handled (see the module docstring)."""
    code = int(error.code) if error.code and error.code.isdigit() else None
    if code == UNDELIVERABLE:
        return RecipientUnreachable(
            PROVIDER, "not reachable on WhatsApp", code=error.code, status=error.status, forget_address=False
        )
    if code in RETRYABLE_CODES or code in PERMANENT_CODES:
        return ProviderError(
            PROVIDER,
            error.message,
            retryable=code in RETRYABLE_CODES,
            status=error.status,
            code=error.code,
            retry_after=error.retry_after,
        )
    return error


def send_template(
    *,
    phone: str,
    template: str,
    language: str,
    parameters: Sequence[str],
    timeout: float,
    callback_data: str = "",
) -> SendResult:
    """Sends the approved `template` in `language` to the E.164 `phone`, its body's placeholders filled
    with `parameters` in order, waiting at most `timeout` seconds. `message_id` is the wamid the status
    webhooks name; `callback_data` (`biz_opaque_callback_data`) comes back in each of them, so a status
    names our row even when the wamid never reached it. Raises RecipientUnreachable (try the next
    channel) or ProviderError."""
    if len(callback_data) > MAX_CALLBACK_DATA:
        raise ValueError(f"callback_data is longer than Meta's {MAX_CALLBACK_DATA} characters")
    if not (settings.WHATSAPP_TOKEN and settings.WHATSAPP_PHONE_NUMBER_ID):
        raise ProviderError(
            PROVIDER,
            "WHATSAPP_TOKEN or WHATSAPP_PHONE_NUMBER_ID is not set",
            retryable=False,
            code="not_configured",
        )
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": phone_for_unifonic(phone),  # international digits without "+", as Meta shows them
        "type": "template",
        "template": {"name": template, "language": {"code": language}},
    }
    if callback_data:
        payload["biz_opaque_callback_data"] = callback_data
    if parameters:
        payload["template"]["components"] = [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": str(value)[:MAX_PARAMETER_LENGTH]} for value in parameters
                ],
            }
        ]
    try:
        response = provider_call(
            provider=PROVIDER,
            operation="send_template",
            method="POST",
            url=f"{settings.WHATSAPP_BASE_URL.rstrip('/')}/{settings.WHATSAPP_PHONE_NUMBER_ID}/messages",
            read_timeout=timeout,
            succeeded=lambda body: _wamid(body) is not None,
            error_code=_error_code,
            json=payload,
            headers={"Authorization": f"Bearer {settings.WHATSAPP_TOKEN}", "Accept": "application/json"},
        )
    except ProviderError as error:
        classified = classify(error)
        if classified is error:
            raise
        raise classified from error
    return SendResult(provider=PROVIDER, message_id=_wamid(response.body), raw=response.body)


# --- the template mapping ------------------------------------------------------------------------------


def context_keys_by_kind(messages: Mapping[str, Mapping[str, str]]) -> dict[str, frozenset[str]]:
    """The placeholders each kind's texts use (`backend.notifications.templates.MESSAGES`): what the
    context of that kind provides."""
    formatter = string.Formatter()
    return {
        kind: frozenset(field for text in texts.values() for _, field, _, _ in formatter.parse(text) if field)
        for kind, texts in messages.items()
    }


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)


def template_mapping_problems(mapping: Any, context_keys: Mapping[str, Collection[str]]) -> list[str]:
    """Everything wrong with a WHATSAPP_TEMPLATES value (empty when it is usable): a kind we do not know,
    a template without a name or languages, parameters that are not a list of names, or a parameter the
    kind's context does not provide. Pure: the caller passes `context_keys_by_kind(MESSAGES)`."""
    if not isinstance(mapping, dict):
        return ["WHATSAPP_TEMPLATES must be a JSON object of message kind -> template"]
    problems = []
    for kind, entry in mapping.items():
        where = f"WHATSAPP_TEMPLATES[{kind!r}]"
        if kind not in context_keys:
            problems.append(f"{where}: unknown message kind (known: {', '.join(sorted(context_keys))})")
            continue
        if not isinstance(entry, dict):
            problems.append(f"{where} must be an object with name, languages and parameters")
            continue
        unknown = sorted(set(entry) - {"name", "languages", "parameters"})
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            problems.append(f"{where}.name must be the template's name")
        if not _strings(entry.get("languages")) or not entry["languages"]:
            problems.append(f"{where}.languages must list the language codes it was approved in")
        parameters = entry.get("parameters", [])
        if not _strings(parameters):
            problems.append(f"{where}.parameters must list context keys in the template's order")
            continue
        missing = [name for name in parameters if name not in context_keys[kind]]
        if missing:
            available = ", ".join(sorted(context_keys[kind]))
            problems.append(f"{where}: {kind} has no {', '.join(missing)} (it has {available})")
    return problems


def template_for(mapping: Mapping[str, Any], kind: str, language: str) -> tuple[Template, str] | None:
    """The template of `kind` and the language to send it in (`language` when approved in it, else the
    first listed), or None when the kind has no template: WhatsApp cannot carry it. Expects a mapping
    `template_mapping_problems` accepted."""
    entry = mapping.get(kind)
    if not entry:
        return None
    template = Template(
        name=entry["name"], languages=tuple(entry["languages"]), parameters=tuple(entry.get("parameters", ()))
    )
    return template, language if language in template.languages else template.languages[0]


def template_parameters(template: Template, context: Mapping[str, str]) -> list[str]:
    """The template's body parameters from a message's context, in order. An absent or empty value is
    sent as "-": an empty text parameter is likely refused (unconfirmed: defensive)."""
    return [str(context.get(name) or "-") for name in template.parameters]
