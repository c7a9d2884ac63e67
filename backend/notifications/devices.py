"""Push devices: registered by the app after login, one FCM token per device. A token belongs to the
account that registered it last (a phone that changes hands, a logout and another login), deleted with
the account, listed in its personal data export, and deleted when FCM reports it unregistered."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from backend.core.errors import ApplicationError
from backend.notifications.models import Device


@transaction.atomic
def device_register(*, user, token: str, platform: str) -> tuple[Device, bool]:
    """Registers `token` for `user`, taking it from whichever account had it: (device, created)."""
    device, created = Device.objects.select_for_update().get_or_create(
        token=token, defaults={"user": user, "platform": platform}
    )
    if not created and (device.user_id != user.pk or device.platform != platform):
        device.user, device.platform = user, platform
        device.save(update_fields=["user", "platform", "updated_at"])
    return device, created


def device_delete(*, user, device_id: int) -> None:
    """Forgets one of the caller's devices (404 for anyone else's: they are not told it exists)."""
    deleted, _by_model = Device.objects.filter(pk=device_id, user=user).delete()
    if not deleted:
        raise ApplicationError("not_found", _("Not found."), status=404)


def devices_delete_for_account(*, user) -> None:
    """Account deletion hook: the account's devices go, so no push reaches it again."""
    Device.objects.filter(user=user).delete()


def device_personal_data(*, user) -> list[dict]:
    """Personal data export section `devices` (the tokens themselves are not shown: they are secrets of
    the app's installation, not data about the person)."""
    return [
        {"id": device.pk, "platform": device.platform, "created_at": device.created_at}
        for device in Device.objects.filter(user=user).order_by("created_at", "pk")
    ]
