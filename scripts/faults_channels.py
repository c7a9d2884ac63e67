"""`make faults --scenario channels`: the outbox across push, WhatsApp and SMS (issue 20).

The same run as the SMS scenario (scripts/faults.py: worker SIGKILLs, a Redis restart, dropped database
connections, bookings through the API), with three differences:

- every message has a recipient with a channel preference, and the recipients are of a few profiles
  (`PROFILES`): a registered device, a device FCM no longer knows (UNREGISTERED: the device is deleted and
  the message falls through), a WhatsApp opt-in, a number that is not on WhatsApp (131026: falls through),
  SMS only. Each profile says which channel must deliver its messages;
- the fake FCM (with its OAuth token endpoint) and the fake WhatsApp Cloud API run beside the fake
  Unifonic;
- the outage is FCM's: connections closed (the token endpoint too) for the first half, then 503
  UNAVAILABLE with a Retry-After. Push is retried on push; nothing may fall through to SMS because of it.

It counts what each fake received against the outbox rows: a push carries the row id in its data
(`notification_id`), an SMS in Unifonic's CorrelationID, a WhatsApp message is matched by number, template
and parameters (unique per row in this run). A row is LOST when no fake received it, DUPLICATED when the
fakes received it more than once in all (a push or WhatsApp message that also went out by SMS counts), and
on the WRONG channel when it went out on another than its profile's.

Duplicates are counted twice over, in separate columns: as the provider received them (raw resends) and as
the person sees them. A push carries its row's collapse identity (`android.notification.tag`, APNs
`apns-collapse-id`): a resend with the same one REPLACES the first on the device (while it is still shown),
so it is a replaced notification, not a visible duplicate; distinct collapse ids (or none) for one row, a
WhatsApp resend, or a message on two channels are SEEN TWICE."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faults import Row, format_counter

PUSH, WHATSAPP, SMS = "push", "whatsapp", "sms"
CHANNELS = (PUSH, WHATSAPP, SMS)
FCM_PROJECT = "faults-push"
WA_TOKEN = "faults-whatsapp-token"  # noqa: S105 - the fake's, loopback only
WA_NUMBER_ID = "100000000000001"
WA_SECRET = "faults-whatsapp-secret"  # noqa: S105 - the fake's, loopback only
TEMPLATE_PARAMETERS = ["salon", "service", "staff", "when"]
TEMPLATES = {
    kind: {"name": f"{kind}_v1", "languages": ["ar", "en"], "parameters": TEMPLATE_PARAMETERS}
    for kind in ("booking_confirmed", "reminder_24h")
}
FAKE_TEMPLATES = {entry["name"]: {"ar": 4, "en": 4} for entry in TEMPLATES.values()}
WHATSAPP_WEBHOOK_PATH = "/api/v1/notifications/webhooks/whatsapp/"
# Meta posts `sent`, then `delivered`, each echoing the message's callback data (the row's signed id);
# the fake posts them within a second of accepting a message.
WHATSAPP_STATUSES = ["sent", "delivered"]
WHATSAPP_STATUS_GRACE_SECONDS = 60  # production's default, not shortened
WHATSAPP_WEBHOOK_RETRIES = 20  # a status not answered 200 is posted again, 1 s apart (Meta retries longer)


@dataclass(frozen=True)
class Profile:
    name: str
    channels: tuple[str, ...]  # the user's preference (sms is added last)
    device: str | None  # None, "valid" or "stale" (FCM answers UNREGISTERED)
    on_whatsapp: bool
    expected: str  # the channel that must deliver

    @property
    def falls_through(self) -> bool:
        return self.expected != (self.channels or (SMS,))[0]


# Recipients take these in turn: push 40 %, WhatsApp 30 %, SMS 30 %; 3 in 10 fall through.
PROFILES = (
    Profile("push", (PUSH,), "valid", True, PUSH),
    Profile("push", (PUSH,), "valid", True, PUSH),
    Profile("push", (PUSH,), "valid", True, PUSH),
    Profile("push, then WhatsApp", (PUSH, WHATSAPP), "valid", True, PUSH),
    Profile("stale device, then WhatsApp", (PUSH, WHATSAPP), "stale", True, WHATSAPP),
    Profile("WhatsApp", (WHATSAPP,), None, True, WHATSAPP),
    Profile("WhatsApp", (WHATSAPP,), None, True, WHATSAPP),
    Profile("WhatsApp, not on WhatsApp", (WHATSAPP,), None, False, SMS),
    Profile("stale device, then SMS", (PUSH,), "stale", True, SMS),
    Profile("SMS only", (), None, True, SMS),
)


def profile_for(n: int) -> Profile:
    return PROFILES[n % len(PROFILES)]


def device_token(phone: str, profile: Profile) -> str:
    return f"faults-{profile.device}-device-{digits(phone)}"


def digits(phone: str) -> str:
    return phone.removeprefix("+")


# --- counting (pure: tests/test_faults.py) -------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    status: str
    channel: str  # the channel that delivered it (sent), or the one being tried
    first: str  # its first channel
    expected: str  # the channel its recipient's profile must be reached on


@dataclass(frozen=True)
class Receipt:
    channel: str
    row: int | None  # None: the message names no committed row
    collapse: str | None = None  # push: the collapse identity it carried (a resend with it replaces)


@dataclass(frozen=True)
class ChannelCounts:
    rows: int  # rows whose profile expects this channel
    received: int  # messages this channel's fake accepted
    lost: int  # of those rows, received by no fake at all
    duplicated: int  # of those rows, received more than once in all (on any channels): raw resends
    extra: int  # the messages beyond the first of those rows
    wrong_channel: int  # of those rows, received on another channel
    books_disagree: int  # of those rows, `sent` on another channel in our books, or not sent
    seen_twice: int  # of those rows, shown to the person more than once (replacements excepted)
    seen_extra: int  # the notifications beyond the first the person saw of those rows
    replaced: int  # messages of those rows that replaced an earlier one on the device


@dataclass(frozen=True)
class ChannelReport:
    by_channel: dict[str, ChannelCounts]
    committed: int
    sent: int
    failed: int
    undelivered: int
    unknown: int  # accepted messages that name no committed row
    expected_fallthrough: int  # rows whose profile must move past the first channel
    fallthrough_books: int  # rows sent on another channel than their first, in our books
    fallthrough_received: int  # rows the fakes received on another channel than their first
    sms_also: int  # rows received by push or WhatsApp and by SMS too
    duplicated_rows: frozenset[int] = frozenset()

    @property
    def lost(self) -> int:
        return sum(c.lost for c in self.by_channel.values())

    @property
    def duplicated(self) -> int:
        return sum(c.duplicated for c in self.by_channel.values())

    @property
    def seen_twice(self) -> int:
        return sum(c.seen_twice for c in self.by_channel.values())


def seen(receipts: Iterable[Receipt]) -> int:
    """How many notifications the person sees of these messages of one row: a push whose collapse identity
    arrived before replaces that one; everything else shows on its own."""
    shown = 0
    collapsed: set[str] = set()
    for receipt in receipts:
        if receipt.channel == PUSH and receipt.collapse is not None:
            if receipt.collapse in collapsed:
                continue
            collapsed.add(receipt.collapse)
        shown += 1
    return shown


def count_channels(rows: Mapping[int, OutboxRow], receipts: Iterable[Receipt]) -> ChannelReport:
    by_row: dict[int, Counter[str]] = {row: Counter() for row in rows}
    of_row: dict[int, list[Receipt]] = {row: [] for row in rows}
    unknown = 0
    accepted: Counter[str] = Counter()
    for receipt in receipts:
        accepted[receipt.channel] += 1
        if receipt.row in by_row:
            by_row[receipt.row][receipt.channel] += 1
            of_row[receipt.row].append(receipt)
        else:
            unknown += 1
    shown = {row: seen(got) for row, got in of_row.items()}
    by_channel = {}
    for channel in CHANNELS:
        mine = [row for row, facts in rows.items() if facts.expected == channel]
        totals = {row: sum(by_row[row].values()) for row in mine}
        by_channel[channel] = ChannelCounts(
            rows=len(mine),
            received=accepted[channel],
            lost=sum(1 for row in mine if totals[row] == 0),
            duplicated=sum(1 for row in mine if totals[row] > 1),
            extra=sum(totals[row] - 1 for row in mine if totals[row] > 1),
            seen_twice=sum(1 for row in mine if shown[row] > 1),
            seen_extra=sum(shown[row] - 1 for row in mine if shown[row] > 1),
            replaced=sum(totals[row] - shown[row] for row in mine),
            wrong_channel=sum(1 for row in mine if set(by_row[row]) - {channel}),
            books_disagree=sum(
                1 for row in mine if rows[row].status != "sent" or rows[row].channel != channel
            ),
        )
    statuses = Counter(facts.status for facts in rows.values())
    return ChannelReport(
        by_channel=by_channel,
        committed=len(rows),
        sent=statuses["sent"],
        failed=statuses["failed"],
        undelivered=statuses["pending"] + statuses["sending"],
        unknown=unknown,
        expected_fallthrough=sum(1 for facts in rows.values() if facts.expected != facts.first),
        fallthrough_books=sum(
            1 for facts in rows.values() if facts.status == "sent" and facts.channel != facts.first
        ),
        fallthrough_received=sum(1 for row, got in by_row.items() if set(got) - {rows[row].first}),
        sms_also=sum(1 for got in by_row.values() if got[SMS] and (got[PUSH] or got[WHATSAPP])),
        duplicated_rows=frozenset(row for row, got in by_row.items() if sum(got.values()) > 1),
    )


def whatsapp_key(to: str, template: str, parameters: Sequence[str]) -> tuple[str, str, tuple[str, ...]]:
    return digits(to), template, tuple(parameters)


def receipts_from(
    push: Iterable[Mapping[str, Any]],
    whatsapp: Iterable[Mapping[str, Any]],
    sms: Iterable[Mapping[str, Any]],
    whatsapp_rows: Mapping[tuple[str, str, tuple[str, ...]], int],
) -> list[Receipt]:
    """The fakes' accepted messages as receipts: push by its data's `notification_id`, SMS by its
    CorrelationID, WhatsApp by (number, template, parameters) through `whatsapp_rows`."""

    def row_id(raw: Any) -> int | None:
        text = str(raw).strip() if raw is not None else ""
        return int(text) if text.isdigit() else None

    receipts = [
        Receipt(
            PUSH,
            row_id((m.get("message") or {}).get("data", {}).get("notification_id")),
            m.get("android_tag") or m.get("apns_collapse_id"),
        )
        for m in push
    ]
    receipts += [
        Receipt(
            WHATSAPP,
            whatsapp_rows.get(whatsapp_key(m.get("to", ""), m.get("template", ""), m.get("parameters", []))),
        )
        for m in whatsapp
    ]
    receipts += [Receipt(SMS, row_id(m.get("CorrelationID"))) for m in sms]
    return receipts


def channel_rows(plan: Any, report: ChannelReport) -> list[Row]:
    rows = [
        Row(
            "C1",
            "messages committed / sent / failed / still pending or sending",
            f"{report.committed} / {report.sent} / {report.failed} / {report.undelivered}",
            f"{plan.notifications} / all / 0 / 0",
            report.committed == plan.notifications and report.sent == report.committed,
        )
    ]
    for number, channel in enumerate(CHANNELS, 2):
        c = report.by_channel[channel]
        rows.append(
            Row(
                f"C{number}",
                f"{channel}: rows for it / messages its fake accepted; LOST; SEEN TWICE by the person "
                "(extra notifications); raw provider resends: rows (extra messages), of them replaced on "
                "the device by their collapse id; on another channel; our books disagree",
                f"{c.rows} / {c.received}; {c.lost}; {c.seen_twice} ({c.seen_extra}); {c.duplicated} "
                f"({c.extra}), {c.replaced} replaced; {c.wrong_channel}; {c.books_disagree}",
                "n / n+r; 0; 0; any (r), r replaced; 0; 0",
                c.received == c.rows + c.replaced
                and c.lost == c.seen_twice == c.wrong_channel == c.books_disagree == 0,
            )
        )
    rows += [
        Row(
            "C5",
            "fallthrough: rows that must move past their first channel / moved in our books / received "
            "by a fake on another channel than their first",
            f"{report.expected_fallthrough} / {report.fallthrough_books} / {report.fallthrough_received}",
            "n / n / n",
            report.expected_fallthrough == report.fallthrough_books == report.fallthrough_received,
        ),
        Row(
            "C6",
            "rows received by push or WhatsApp AND by SMS; accepted messages of no committed row",
            f"{report.sms_also}; {report.unknown}",
            "0; 0",
            report.sms_also == 0 and report.unknown == 0,
        ),
    ]
    return rows


def provider_calls_by_channel(journals: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[str]:
    """Each fake's journal by outcome: HTTP status, or the injected fault."""
    lines = []
    for channel, journal in journals.items():
        outcomes: Counter[str] = Counter()
        for entry in journal:
            path = str(entry.get("path", ""))
            what = "token" if path.endswith("/token") else "send"
            if entry.get("fault") == "down":
                outcomes[f"{what}: connection closed"] += 1
            else:
                outcomes[f"{what}: {entry.get('status')}"] += 1
        lines.append(f"  {channel}: {format_counter(outcomes)}")
    return lines


# --- the run's side: recipients, fakes, settings --------------------------------------------------------


def make_recipient(phone: str, n: int):
    """A user of profile `profile_for(n)`, with their device. Call inside a transaction."""
    from backend.accounts.models import User
    from backend.notifications.models import Device

    profile = profile_for(n)
    user = User.objects.create_user(phone, channels=list(profile.channels), language="en")
    if profile.device:
        Device.objects.create(user=user, token=device_token(phone, profile), platform="android")
    return user


@dataclass
class ChannelFakes:
    fcm: Any  # backend.fakes.fcm.FakeFcm
    whatsapp: Any  # backend.fakes.whatsapp.FakeWhatsApp
    env: dict[str, str]

    def prepare(self, users: Sequence[tuple[int, Any]]) -> None:
        """Tells the fakes which devices are stale and which numbers are not on WhatsApp."""
        stale = [
            device_token(user.phone_number, profile_for(n))
            for n, user in users
            if profile_for(n).device == "stale"
        ]
        absent = [user.phone_number for n, user in users if not profile_for(n).on_whatsapp]
        self.fcm.unregister(*stale)
        self.whatsapp.configure(not_on_whatsapp=absent)

    def post_statuses_to(self, base_url: str) -> None:
        """The fake WhatsApp posts its signed status webhooks to the stack's web server from now on."""
        self.whatsapp.configure(
            webhook_url=base_url + WHATSAPP_WEBHOOK_PATH,
            auto_statuses=WHATSAPP_STATUSES,
            webhook_retries=WHATSAPP_WEBHOOK_RETRIES,
        )


def start_fakes(cleanup: Any, log_dir: Path, latency_ms: int) -> ChannelFakes:
    from backend.fakes.fcm import FakeFcm
    from backend.fakes.whatsapp import FakeWhatsApp

    options = {"latency_ms": latency_ms, "journal_limit": 10_000_000}
    push = cleanup.enter_context(FakeFcm(project_id=FCM_PROJECT, **options))
    whatsapp = cleanup.enter_context(
        FakeWhatsApp(
            access_token=WA_TOKEN,
            phone_number_id=WA_NUMBER_ID,
            templates=FAKE_TEMPLATES,
            app_secret=WA_SECRET,
            **options,
        )
    )
    env = {
        "FCM_PROJECT_ID": FCM_PROJECT,
        "FCM_CREDENTIALS_FILE": str(push.write_service_account(log_dir / "fcm-service-account.json")),
        "FCM_BASE_URL": push.url,
        "WHATSAPP_BASE_URL": whatsapp.url,
        "WHATSAPP_TOKEN": WA_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": WA_NUMBER_ID,
        "WHATSAPP_APP_SECRET": WA_SECRET,
        "WHATSAPP_TEMPLATES": json.dumps(TEMPLATES),
        "WHATSAPP_STATUS_GRACE_SECONDS": str(WHATSAPP_STATUS_GRACE_SECONDS),
    }
    return ChannelFakes(push, whatsapp, env)


def outbox_rows(expected: Mapping[str, str]) -> dict[int, OutboxRow]:
    """Every committed row; `expected`: the channel each recipient's profile must be reached on, by phone
    number (rows to anyone else: SMS)."""
    from backend.notifications.models import Notification

    rows = {}
    for pk, status, channel, channels, phone in Notification.objects.values_list(
        "pk", "status", "channel", "channels", "phone"
    ):
        rows[pk] = OutboxRow(status, channel, (channels or [SMS])[0], expected.get(phone, SMS))
    return rows


def whatsapp_rows() -> dict[tuple[str, str, tuple[str, ...]], int]:
    """(number, template, parameters) -> row id, for every row WhatsApp could carry."""
    from backend.notifications.models import Notification

    found: dict[tuple[str, str, tuple[str, ...]], int] = {}
    for pk, phone, kind, context in Notification.objects.values_list("pk", "phone", "kind", "context"):
        entry = TEMPLATES.get(kind)
        if entry:
            parameters = [str(context.get(name) or "-") for name in entry["parameters"]]
            found[whatsapp_key(phone, entry["name"], parameters)] = pk
    return found


def webhook_line(deliveries: Iterable[Mapping[str, Any]]) -> str:
    """The fake WhatsApp's status webhooks by answer, and the statuses no post of which was answered 200
    (their rows could not be settled from them)."""
    answers: Counter[str] = Counter()
    statuses: dict[tuple[str, str], bool] = {}
    for delivery in deliveries:
        answers[str(delivery.get("status") or delivery.get("error"))] += 1
        for item in delivery["payload"]["entry"][0]["changes"][0]["value"]["statuses"]:
            key = (item["id"], item["status"])
            statuses[key] = statuses.get(key, False) or delivery.get("status") == 200
    never = sum(1 for answered in statuses.values() if not answered)
    return (
        f"WhatsApp status webhooks: {len(statuses)} statuses in {sum(answers.values())} posts, answered "
        f"{format_counter(answers)}; statuses never answered 200: {never}"
    )


def summary_lines(
    report: ChannelReport, fakes: ChannelFakes, sms_fake: Any, in_flight_at_kills: Iterable[int]
) -> list[str]:
    at_kills = report.duplicated_rows & set(in_flight_at_kills)
    lines = [
        f"duplicated rows that were `sending` when the worker was SIGKILLed: {len(at_kills)} of "
        f"{len(report.duplicated_rows)} (the provider had accepted them, the row did not say so yet; the "
        "sweep sent them again)",
        f"of those resends, seen twice by the person: {report.seen_twice} rows; replaced on the device by "
        f"the same collapse id: {sum(c.replaced for c in report.by_channel.values())} pushes (a resend "
        "replaces the first only while it is still shown)",
        webhook_line(fakes.whatsapp.webhooks()),
        "provider calls by channel:",
    ]
    lines += provider_calls_by_channel(
        {"fcm": fakes.fcm.journal(), "whatsapp": fakes.whatsapp.journal(), "unifonic": sms_fake.journal()}
    )
    lines.append(f"recipient profiles (in turn): {', '.join(p.name for p in PROFILES)}")
    return lines


def make_direct_recipients(prefix: str, count: int) -> list[Any]:
    """The recipients of the rows the run writes through `notification_create`, `count` of them."""
    from django.db import transaction

    with transaction.atomic():
        return [make_recipient(f"{prefix}{n:07d}", n) for n in range(count)]


def recipients(prefixes: Sequence[str]) -> list[tuple[int, Any]]:
    """The run's recipients with their number n (the last 7 digits of their phone: `profile_for(n)`)."""
    from django.db.models import Q

    from backend.accounts.models import User

    query = Q()
    for prefix in prefixes:
        query |= Q(phone_number__startswith=prefix)
    return [(int(user.phone_number[-7:]), user) for user in User.objects.filter(query)]


def expected_by_phone(users: Iterable[tuple[int, Any]]) -> dict[str, str]:
    return {user.phone_number: profile_for(n).expected for n, user in users}
