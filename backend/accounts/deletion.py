"""Account deletion hooks: how other apps take part when a user deletes their account.

An app registers a hook from its AppConfig.ready:

    register_account_deletion_hook(bookings_cancel_for_deleted_account)

where the hook is `def bookings_cancel_for_deleted_account(*, user)`. `services.user_delete` calls every
hook inside its transaction and before the account is anonymised, so a hook still sees the user's data
(e.g. to cancel their future bookings, with refunds per policy). A hook only writes to the database and
enqueues work with `transaction.on_commit`; raising aborts the deletion. History rows stay: they point at
the anonymised account.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.accounts.models import User

AccountDeletionHook = Callable[["User"], None]

_hooks: list[AccountDeletionHook] = []


def register_account_deletion_hook(hook: AccountDeletionHook) -> None:
    """Adds `hook(user=user)` to account deletion; registering the same hook again does nothing."""
    if hook not in _hooks:
        _hooks.append(hook)


def account_deletion_hooks_run(*, user: "User") -> None:
    for hook in _hooks:
        hook(user=user)
