"""Local fake servers of the external providers (Authentica, Unifonic, Moyasar, FCM, WhatsApp), for
development and tests.

Standard library only, except the fake FCM (cryptography and PyJWT for its service-account key); see
README.md in this package.
"""

from .authentica import FakeAuthentica
from .base import ControlError, FakeProvider
from .fcm import FakeFcm
from .jwks import FakeJwks
from .moyasar import FakeMoyasar
from .unifonic import FakeUnifonic
from .whatsapp import FakeWhatsApp

__all__ = [
    "ControlError",
    "FakeAuthentica",
    "FakeFcm",
    "FakeJwks",
    "FakeMoyasar",
    "FakeProvider",
    "FakeUnifonic",
    "FakeWhatsApp",
]
