"""Local fake servers of the external providers (Authentica, Unifonic, Moyasar), for development and tests.

Standard library only; see README.md in this package.
"""

from .authentica import FakeAuthentica
from .base import ControlError, FakeProvider
from .jwks import FakeJwks
from .moyasar import FakeMoyasar
from .unifonic import FakeUnifonic

__all__ = ["ControlError", "FakeAuthentica", "FakeJwks", "FakeMoyasar", "FakeProvider", "FakeUnifonic"]
