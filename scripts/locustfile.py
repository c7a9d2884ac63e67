"""The users of `make load` (scripts/load.py), which starts locust on this file against the stack on
loopback and reads back what it records. Not meant to be run on its own: it needs the plan load.py
writes (salons, services, customers' access tokens), named by LOAD_PLAN, and writes every request it
made to LOAD_RESULTS when the run stops.

Three kinds of users, by weight:
- `Browser` (anonymous): the catalog and the availability reads, the hot path of the apps.
- `Customer`: books at the salons that take payment on site (picking a slot from an availability answer,
  with an Idempotency-Key, sometimes replaying it), lists and reads its bookings, cancels and moves them,
  and probes someone else's booking (which must stay a 404).
- `PayingCustomer`: books at the prepayment salon, pays (the fake Moyasar), completes 3-D Secure on the
  fake (which posts its webhook to our API before answering), reads the payment and the booking back,
  sometimes after a declined card, sometimes abandons the payment; cancels paid bookings (a refund).

Every request is classified as it is answered: `ok` (the success status, and the body says what it
must), `by_design` (an answer the contract gives to this request under contention, e.g. 409
`slot_unavailable` when someone else took the slot in between), or `failed` (anything else, a 5xx, no
answer, or a body that contradicts what the user did before: a read that does not show its own write).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Collection
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, events, task

BOOKINGS = "/api/v1/bookings/"
SLOT_TAKEN = {(409, "slot_unavailable")}
# Not our API: the payer's 3-D Secure page on the fake Moyasar (load.py reports it apart).
FAKE_3DS = "fake Moyasar /_control/3ds/{id}"

if "LOAD_PLAN" not in os.environ:
    raise SystemExit("scripts/locustfile.py is run by scripts/load.py (`make load`), which sets LOAD_PLAN")
PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
FIRST_DAY = date.fromisoformat(PLAN["first_day"])  # the salons' tomorrow
BOOKING_DAYS: int = PLAN["booking_days"]
SALONS: list[dict[str, Any]] = PLAN["salons"]
PAY_ON_SITE = [salon for salon in SALONS if not salon["prepayment"]]
PREPAYMENT = [salon for salon in SALONS if salon["prepayment"]]

# What the run records, written to LOAD_RESULTS at the end. One row per request:
# [name, status (0 = no answer), milliseconds, error code, outcome, problem].
RECORDS: list[list[Any]] = []
# What the clients were told about the bookings they made, for load.py to compare with the database:
# id -> {"salon", "customer", "status" (the last one an answer gave), "paid" (a payment read back paid)}.
BOOKINGS_SEEN: dict[int, dict[str, Any]] = {}
RUN: dict[str, float] = {}
_user_numbers = itertools.count()


@events.test_start.add_listener
def _started(**_kwargs: Any) -> None:
    RUN["started"] = time.time()


@events.test_stop.add_listener
def _stopped(**_kwargs: Any) -> None:
    RUN["stopped"] = time.time()
    results = {"run": RUN, "records": RECORDS, "bookings": BOOKINGS_SEEN}
    Path(os.environ["LOAD_RESULTS"]).write_text(json.dumps(results))


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content or b"null")
    except (ValueError, TypeError):
        return None


def _error_code(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code", ""))
    return ""


Check = Callable[[Any], str]  # the body of a success -> "" or what is wrong with it


def has_keys(*keys: str) -> Check:
    def check(body: Any) -> str:
        missing = [key for key in keys if not isinstance(body, dict) or key not in body]
        return f"no {', '.join(missing)} in the body" if missing else ""

    return check


def field_is(key: str, expected: Any) -> Check:
    def check(body: Any) -> str:
        actual = body.get(key) if isinstance(body, dict) else None
        return "" if actual == expected else f"{key} is {actual!r}, expected {expected!r}"

    return check


class ApiUser(FastHttpUser):
    abstract = True
    # Think time between two actions of one user: the app's screens, not a tight loop.
    wait_time = between(0.5, 2.0)
    connection_timeout = 10.0
    network_timeout = 60.0  # longer than gunicorn's 30 s worker timeout: a stuck worker shows as a 5xx

    def on_start(self) -> None:
        self.number = next(_user_numbers)
        self.rng = random.Random(self.number)  # noqa: S311 (load shape, not security)
        self.headers = {"Accept-Language": self.rng.choice(("ar", "en"))}

    # --- requests ----------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        url: str,
        name: str,
        *,
        body: Any = None,
        form: str | None = None,
        headers: dict[str, str] | None = None,
        ok: Collection[int] = (200,),
        by_design: Collection[tuple[int, str]] = (),
        check: Check | None = None,
    ) -> tuple[int, Any]:
        """One request, timed and classified; `name` is the endpoint's template (ids as `{id}`)."""
        all_headers = {**self.headers, **(headers or {})}
        if form is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        with self.client.request(
            method,
            url,
            name=name,
            json=body,
            data=form,
            headers=all_headers,
            catch_response=True,
            allow_redirects=False,
        ) as response:
            milliseconds = (time.perf_counter() - started) * 1000
            status = response.status_code or 0
            answer = _json(response)
            code = _error_code(answer) if status >= 400 else ""
            if status in ok:
                problem = check(answer) if check else ""
            elif (status, code) in by_design:
                problem = ""
            elif status == 0:
                problem = f"no answer: {getattr(response, 'error', None)!r}"
            else:
                problem = f"unexpected {status} {code}".strip()
            outcome = "failed" if problem else ("ok" if status in ok else "by_design")
            if problem:
                response.failure(problem)
            else:
                response.success()
        RECORDS.append([f"{method} {name}", status, round(milliseconds, 2), code, outcome, problem])
        return status, answer

    # --- catalog and availability ------------------------------------------------------------------

    def salon_list(self) -> None:
        query = self.rng.choice(("", "?city=Riyadh", "?search=salon"))
        self.call("GET", f"/api/v1/salons/{query}", "/api/v1/salons/", check=has_keys("count", "results"))

    def salon_detail(self) -> None:
        salon = self.rng.choice(SALONS)
        self.call(
            "GET", f"/api/v1/salons/{salon['id']}/", "/api/v1/salons/{id}/", check=field_is("id", salon["id"])
        )

    def services(self) -> None:
        salon = self.rng.choice(SALONS)
        self.call("GET", f"/api/v1/salons/{salon['id']}/services/", "/api/v1/salons/{id}/services/")

    def staff(self) -> None:
        salon = self.rng.choice(SALONS)
        query = urlencode({"service": self.rng.choice(salon["services"])["id"]})
        self.call("GET", f"/api/v1/salons/{salon['id']}/staff/?{query}", "/api/v1/salons/{id}/staff/")

    def availability(
        self, salon: dict[str, Any], *, service: int | None = None, days: int = 1, one_staff: bool = False
    ) -> tuple[int, list[dict[str, Any]]]:
        """A day (or a week) of free slots of one service, for any staff member or one who offers it;
        (the service's id, the slots)."""
        offered = self.rng.choice(salon["services"])
        if service is not None:
            offered = next(each for each in salon["services"] if each["id"] == service)
        # Half the looks are at the next three days, where bookings crowd and collide; the rest anywhere.
        ahead = self.rng.randrange(3) if self.rng.random() < 0.5 else self.rng.randrange(BOOKING_DAYS)
        day = FIRST_DAY + timedelta(days=ahead)
        query = {"service": offered["id"], "date": day.isoformat(), "days": days}
        if one_staff:
            query["staff"] = self.rng.choice(offered["staff"])
        status, answer = self.call(
            "GET",
            f"/api/v1/salons/{salon['id']}/availability/?{urlencode(query)}",
            f"/api/v1/salons/{{id}}/availability/ ({'1 day' if days == 1 else f'{days} days'})",
            check=has_keys("timezone", "slots"),
        )
        return offered["id"], (answer["slots"] if status == 200 else [])

    def browse_availability(self) -> None:
        self.availability(self.rng.choice(SALONS), one_staff=self.rng.random() < 0.3)

    def browse_week(self) -> None:
        self.availability(self.rng.choice(SALONS), days=7)


class Browser(ApiUser):
    """Someone looking around the apps without an account."""

    weight = 3

    @task(2)
    def list_salons(self) -> None:
        self.salon_list()

    @task(1)
    def read_salon(self) -> None:
        self.salon_detail()

    @task(1)
    def read_services(self) -> None:
        self.services()

    @task(1)
    def read_staff(self) -> None:
        self.staff()

    @task(6)
    def read_availability(self) -> None:
        self.browse_availability()

    @task(1)
    def read_week(self) -> None:
        self.browse_week()


class Account(ApiUser):
    """A logged-in customer: one of the plan's access tokens; what it books, reads, cancels and moves."""

    abstract = True
    salons: list[dict[str, Any]] = []
    expected_status = "confirmed"  # of a new booking at these salons
    replay_share = 0.1  # creates repeated with the same Idempotency-Key (a retry after a lost answer)
    anyone_share = 0.2  # creates with "staff": null (any staff member)
    first_slot_share = 0.3  # creates of the first free slot of the day

    def on_start(self) -> None:
        super().on_start()
        self.customer = self.number % len(PLAN["tokens"])
        self.headers["Authorization"] = f"Bearer {PLAN['tokens'][self.customer]}"
        self.active: dict[int, dict[str, Any]] = {}  # own bookings not cancelled: id -> booking
        self.mine: list[int] = []

    def remember(self, booking: dict[str, Any]) -> None:
        seen = BOOKINGS_SEEN.setdefault(
            booking["id"], {"salon": booking["salon"], "customer": self.customer, "paid": False}
        )
        seen["status"] = booking["status"]
        if booking["status"] in ("confirmed", "pending_payment"):
            self.active[booking["id"]] = booking
        else:
            self.active.pop(booking["id"], None)
        if booking["id"] not in self.mine:
            self.mine.append(booking["id"])

    def book(self) -> dict[str, Any] | None:
        """Picks a free slot from an availability answer and books it; the booking, or None."""
        salon = self.rng.choice(self.salons)
        service, slots = self.availability(salon)
        if not slots:
            return None
        # Some take the first free slot ("as soon as possible"), where customers collide; most pick one.
        slot = slots[0] if self.rng.random() < self.first_slot_share else self.rng.choice(slots)
        anyone = self.rng.random() < self.anyone_share
        request = {
            "salon": salon["id"],
            "service": service,
            "start": slot["start"],
            "staff": None if anyone else slot["staff_id"],
        }
        key = {"Idempotency-Key": str(uuid.uuid4())}
        status, booking = self.call(
            "POST",
            BOOKINGS,
            BOOKINGS,
            body=request,
            headers=key,
            ok=(201,),
            by_design=SLOT_TAKEN,
            check=field_is("status", self.expected_status),
        )
        if status != 201 or not isinstance(booking, dict) or "id" not in booking:
            return None
        self.remember(booking)
        if self.rng.random() < self.replay_share:
            self.call(
                "POST",
                BOOKINGS,
                f"{BOOKINGS} (replay, same Idempotency-Key)",
                body=request,
                headers=key,
                ok=(201,),
                check=field_is("id", booking["id"]),
            )
        return booking

    def list_mine(self) -> None:
        self.call("GET", f"{BOOKINGS}?upcoming=true", BOOKINGS, check=has_keys("count", "results"))

    def read_mine(self) -> None:
        """One of its bookings, which must show what the answers so far said (read your writes)."""
        if not self.mine:
            return
        booking_id = self.rng.choice(self.mine)
        expected = BOOKINGS_SEEN[booking_id]["status"]
        self.call("GET", f"{BOOKINGS}{booking_id}/", f"{BOOKINGS}{{id}}/", check=field_is("status", expected))

    def cancel(self) -> None:
        if not self.active:
            return
        booking_id = self.rng.choice(sorted(self.active))
        status, booking = self.call(
            "POST",
            f"{BOOKINGS}{booking_id}/cancel/",
            f"{BOOKINGS}{{id}}/cancel/",
            body={"reason": "load test"},
            check=cancelled_with_refund(paid=BOOKINGS_SEEN[booking_id]["paid"]),
        )
        if status == 200 and isinstance(booking, dict) and "id" in booking:
            self.remember(booking)

    def move(self) -> None:
        if not self.active:
            return
        booking_id = self.rng.choice(sorted(self.active))
        current = self.active[booking_id]
        salon = next(salon for salon in SALONS if salon["id"] == current["salon"])
        _, slots = self.availability(salon, service=current["service"])
        if not slots:
            return
        slot = self.rng.choice(slots)
        status, booking = self.call(
            "POST",
            f"{BOOKINGS}{booking_id}/reschedule/",
            f"{BOOKINGS}{{id}}/reschedule/",
            body={"start": slot["start"], "staff": slot["staff_id"]},
            by_design=SLOT_TAKEN,
            check=field_is("start", slot["start"]),
        )
        if status == 200 and isinstance(booking, dict) and "id" in booking:
            self.remember(booking)

    def peek(self) -> None:
        """Another customer's booking must be a 404 (the contract), whatever the load."""
        others = [number for number, seen in BOOKINGS_SEEN.items() if seen["customer"] != self.customer]
        if others:
            booking_id = self.rng.choice(others[-200:])
            self.call(
                "GET",
                f"{BOOKINGS}{booking_id}/",
                f"{BOOKINGS}{{id}}/ (someone else's)",
                ok=(),
                by_design={(404, "not_found")},
            )


def cancelled_with_refund(*, paid: bool) -> Check:
    """A cancellation's answer. Bookings start tomorrow or later, so a paid one is at least 2 hours
    ahead, inside a refunding tier; an unpaid one refunds 0."""

    def check(body: Any) -> str:
        if not isinstance(body, dict) or body.get("status") != "cancelled":
            return field_is("status", "cancelled")(body)
        refund = body.get("refund_halalas")
        if paid and not refund:
            return f"a paid booking cancelled with refund_halalas {refund!r}"
        if not paid and refund:
            return f"an unpaid booking cancelled with refund_halalas {refund!r}"
        return ""

    return check


class Customer(Account):
    """A customer of the salons that take payment on site."""

    weight = 4
    salons = PAY_ON_SITE

    @task(4)
    def look_around(self) -> None:
        self.browse_availability()

    @task(4)
    def create_booking(self) -> None:
        self.book()

    @task(2)
    def list_my_bookings(self) -> None:
        self.list_mine()

    @task(1)
    def read_my_booking(self) -> None:
        self.read_mine()

    @task(1)
    def cancel_booking(self) -> None:
        self.cancel()

    @task(1)
    def move_booking(self) -> None:
        self.move()

    @task(1)
    def peek_at_someone_elses_booking(self) -> None:
        self.peek()


class PayingCustomer(Account):
    """A customer of the prepayment salon: books, pays, completes 3-D Secure, sometimes cancels."""

    weight = 2
    salons = PREPAYMENT
    expected_status = "pending_payment"
    decline_share = 0.1  # the first card is declined; the customer tries another one
    abandon_share = 0.15  # never completes 3-D Secure: the hold stays until it expires

    @task(3)
    def book_and_pay(self) -> None:
        booking = self.book()
        if booking is None:
            return
        declined = self.rng.random() < self.decline_share
        if self.pay(booking, decline=declined) and declined:
            self.pay(booking, decline=False)

    @task(1)
    def list_my_bookings(self) -> None:
        self.list_mine()

    @task(1)
    def read_my_booking(self) -> None:
        self.read_mine()

    @task(1)
    def cancel_booking(self) -> None:
        self.cancel()

    def pay(self, booking: dict[str, Any], *, decline: bool) -> bool:
        """One payment attempt; True when it was completed (paid or declined) and read back."""
        token = f"token_decline_{uuid.uuid4().hex}" if decline else f"tok_load_{uuid.uuid4().hex}"
        status, payment = self.call(
            "POST",
            f"{BOOKINGS}{booking['id']}/payments/",
            f"{BOOKINGS}{{id}}/payments/",
            body={"source": {"type": "token", "token": token}, "callback_url": PLAN["callback_url"]},
            headers={"Idempotency-Key": str(uuid.uuid4())},
            ok=(201,),
            check=field_is("status", "initiated"),
        )
        if status != 201 or not isinstance(payment, dict) or not payment.get("transaction_url"):
            return False
        if self.rng.random() < self.abandon_share:
            return False
        # The payer's 3-D Secure page on the fake: completing it posts the webhook to our API and waits
        # for its answer, then redirects to callback_url (not followed).
        status, _ = self.call("POST", payment["transaction_url"], FAKE_3DS, form="status=", ok=(302,))
        if status != 302:
            return False
        expected = "failed" if decline else "paid"
        self.call(
            "GET",
            f"/api/v1/payments/{payment['id']}/",
            "/api/v1/payments/{id}/",
            check=field_is("status", expected),
        )
        if not decline:
            BOOKINGS_SEEN[booking["id"]]["paid"] = True
        status, read = self.call(
            "GET",
            f"{BOOKINGS}{booking['id']}/",
            f"{BOOKINGS}{{id}}/",
            check=field_is("status", "pending_payment" if decline else "confirmed"),
        )
        if status == 200 and isinstance(read, dict) and "id" in read:
            self.remember(read)
        return True
