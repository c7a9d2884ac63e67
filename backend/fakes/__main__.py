"""Run fake providers in the foreground until Ctrl-C.

python -m backend.fakes all --port 8701   # consecutive: authentica, unifonic, moyasar, fatoora, fcm,
                                          # whatsapp, jwks (Sign in with Apple / Google keys and tokens)
python -m backend.fakes jwks --port 8707  # then POST :8707/_control/tokens {"provider": "apple"} for a token
python -m backend.fakes moyasar --port 8703      # webhooks to http://127.0.0.1:$PORT/api/v1/payments/webhook/
python -m backend.fakes moyasar --webhook-url https://api.example.test/api/v1/payments/webhook/
python -m backend.fakes fcm --credentials-out .dev/fcm-service-account.json
python -m backend.fakes whatsapp --status-webhook-url http://127.0.0.1:8000/api/v1/notifications/webhooks/whatsapp/
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Callable

from .authentica import DEFAULT_API_KEY, FakeAuthentica
from .base import FakeProvider
from .fatoora import DEFAULT_OTP, FakeFatoora
from .fcm import DEFAULT_PROJECT_ID, FakeFcm
from .jwks import DEFAULT_CLIENT_IDS, FakeJwks
from .moyasar import DEFAULT_SECRET_KEY, DEFAULT_WEBHOOK_SECRET, FakeMoyasar
from .unifonic import DEFAULT_APP_SID, FakeUnifonic
from .whatsapp import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET, DEFAULT_PHONE_NUMBER_ID, FakeWhatsApp

PROVIDERS = ("authentica", "unifonic", "moyasar", "fatoora", "fcm", "whatsapp", "jwks")
# Our API's webhook route (backend/payments/urls.py), on the port `make run` serves (PORT, default 8000).
WEBHOOK_PATH = "/api/v1/payments/webhook/"


def default_webhook_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('PORT') or 8000}{WEBHOOK_PATH}"


BASE_URL_VARIABLES = {
    "authentica": "AUTHENTICA_BASE_URL",
    "unifonic": "UNIFONIC_BASE_URL",
    "moyasar": "MOYASAR_BASE_URL",
    "fatoora": "ZATCA_BASE_URL",
    "fcm": "FCM_BASE_URL",
    "whatsapp": "WHATSAPP_BASE_URL",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m backend.fakes", description=__doc__.splitlines()[0])
    parser.add_argument("provider", nargs="?", default="all", choices=(*PROVIDERS, "all"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=0, help="first port; 'all' uses consecutive ports (0: any)"
    )
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="Authentica X-Authorization key")
    parser.add_argument("--app-sid", default=DEFAULT_APP_SID, help="Unifonic AppSid")
    parser.add_argument(
        "--secret-key", default=DEFAULT_SECRET_KEY, help="Moyasar secret key (the API's MOYASAR_SECRET_KEY)"
    )
    parser.add_argument(
        "--webhook-url",
        default=default_webhook_url(),
        help="where Moyasar webhooks are POSTed (default: make run's API on $PORT, %(default)s; '' for none)",
    )
    parser.add_argument(
        "--webhook-secret",
        default=DEFAULT_WEBHOOK_SECRET,
        help="Moyasar webhook secret_token (the API's MOYASAR_WEBHOOK_SECRET)",
    )
    parser.add_argument("--otp", default=DEFAULT_OTP, help="the portal OTP Fatoora's /compliance accepts")
    parser.add_argument("--project-id", default=DEFAULT_PROJECT_ID, help="FCM project id")
    parser.add_argument(
        "--credentials-out",
        default=None,
        help="FCM: write a service-account JSON (fresh key, token_uri at the fake) for FCM_CREDENTIALS_FILE",
    )
    parser.add_argument("--whatsapp-token", default=DEFAULT_ACCESS_TOKEN, help="WhatsApp bearer token")
    parser.add_argument("--phone-number-id", default=DEFAULT_PHONE_NUMBER_ID, help="WhatsApp phone number id")
    parser.add_argument(
        "--app-secret", default=DEFAULT_APP_SECRET, help="WhatsApp app secret (signs webhooks)"
    )
    parser.add_argument(
        "--status-webhook-url", default=None, help="where WhatsApp status webhooks are POSTed"
    )
    parser.add_argument("--latency-ms", type=float, default=0, help="delay added to every provider answer")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def build(name: str, port: int, args: argparse.Namespace) -> FakeProvider:
    common = {"latency_ms": args.latency_ms, "verbose": args.verbose}
    factories: dict[str, Callable[[], FakeProvider]] = {
        "authentica": lambda: FakeAuthentica(args.host, port, api_key=args.api_key, **common),
        "unifonic": lambda: FakeUnifonic(args.host, port, app_sid=args.app_sid, **common),
        "moyasar": lambda: FakeMoyasar(
            args.host,
            port,
            secret_key=args.secret_key,
            webhook_url=args.webhook_url or None,
            webhook_secret=args.webhook_secret,
            **common,
        ),
        "fatoora": lambda: FakeFatoora(args.host, port, otp=args.otp, **common),
        "fcm": lambda: FakeFcm(args.host, port, project_id=args.project_id, **common),
        "whatsapp": lambda: FakeWhatsApp(
            args.host,
            port,
            access_token=args.whatsapp_token,
            phone_number_id=args.phone_number_id,
            app_secret=args.app_secret,
            webhook_url=args.status_webhook_url,
            **common,
        ),
        "jwks": lambda: FakeJwks(args.host, port, **common),
    }
    return factories[name]()


def describe(name: str, fake: FakeProvider, args: argparse.Namespace) -> str:
    """The line printed for a started fake: its base URL variable first, then what else to set."""
    if isinstance(fake, FakeJwks):
        return (
            f"APPLE_JWKS_URL={fake.apple_jwks_url}  GOOGLE_JWKS_URL={fake.google_jwks_url}  "
            f"APPLE_CLIENT_IDS={DEFAULT_CLIENT_IDS['apple']}  "
            f"GOOGLE_CLIENT_IDS={DEFAULT_CLIENT_IDS['google']}  (control: {fake.root_url}/_control/)"
        )
    extra = ""
    if isinstance(fake, FakeFcm):
        extra = f"; FCM_PROJECT_ID={fake.project_id}"
        if args.credentials_out:
            extra += f" FCM_CREDENTIALS_FILE={fake.write_service_account(args.credentials_out)}"
    elif isinstance(fake, FakeWhatsApp):
        extra = f"; WHATSAPP_PHONE_NUMBER_ID={fake.phone_number_id}"
    return f"{BASE_URL_VARIABLES[name]}={fake.url}  (control: {fake.root_url}/_control/{extra})"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    names = PROVIDERS if args.provider == "all" else (args.provider,)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    running: list[FakeProvider] = []
    try:
        for offset, name in enumerate(names):
            fake = build(name, args.port + offset if args.port else 0, args).start()
            running.append(fake)
            print(describe(name, fake, args), flush=True)
        if "moyasar" in names:
            print(f"moyasar webhooks go to {args.webhook_url or 'nowhere'}", flush=True)
        stopping.wait()
    finally:
        for fake in running:
            fake.stop()


if __name__ == "__main__":
    main()
