"""What the apps that build on salons add to salons' API, registered from their AppConfig.ready: salons
imports none of them (photos, e-invoicing, bookings build on salons, never the other way round).

- Fields: a serializer of salons' names the slots other apps may fill (`ExtensibleSerializer`); an app
  fills one with `register_field(group, name, factory)`, `factory()` making the field. A slot no app
  filled is left out, so salons alone still answers. Groups: "salon" (the catalog's salons),
  "staff" (the catalog's staff), "settings" and "settings_input" (manage/salons/{id}/settings/).
- Settings sections: `register_settings_section(name, output=..., input=..., save=...)` fills the slot
  `name` of the settings output and input and saves it: `save(salon=..., data=...)` runs inside the
  transaction that updates the settings when the request carries `name` (e-invoicing's `tax`).
- Catalog prefetches: `register_catalog_prefetch(group, factory)`, `factory()` making a Prefetch the
  catalog's salon or staff list applies, so the fields above read their rows in one query a list.

Registering a name again replaces its field (or section); registering a prefetch factory again keeps one."""

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

_fields: dict[str, dict[str, Callable[[], serializers.Field]]] = defaultdict(dict)
_section_savers: dict[str, Callable[..., Any]] = {}
_prefetches: dict[str, list[Callable[[], Prefetch]]] = defaultdict(list)


def register_field(group: str, name: str, factory: Callable[[], serializers.Field]) -> None:
    _fields[group][name] = factory


def register_settings_section(
    name: str,
    *,
    output: Callable[[], serializers.Field],
    input: Callable[[], serializers.Field],
    save: Callable[..., Any],
) -> None:
    register_field("settings", name, output)
    register_field("settings_input", name, input)
    _section_savers[name] = save


def register_catalog_prefetch(group: str, factory: Callable[[], Prefetch]) -> None:
    if factory not in _prefetches[group]:
        _prefetches[group].append(factory)


def catalog_prefetches(group: str) -> list[Prefetch]:
    return [factory() for factory in _prefetches[group]]


def settings_sections_save(*, salon: Any, data: Mapping[str, Any]) -> None:
    """Saves each registered section the validated settings carry (call it inside their transaction)."""
    for name, save in _section_savers.items():
        if name in data:
            save(salon=salon, data=data[name])


# Mixed into a serializer of salons': `extension_group` and the `extension_slots` other apps may fill. A
# model serializer names its slots among `Meta.fields`, where they stand; a plain one lists them after its
# own fields. (No docstring: drf-spectacular would show it as the description of every such serializer.)
class ExtensibleSerializer:
    extension_group = ""
    extension_slots: tuple[str, ...] = ()

    def get_field_names(self, declared_fields: Any, info: Any) -> list[str]:
        names = super().get_field_names(declared_fields, info)  # type: ignore[misc]
        return [name for name in names if name not in self.extension_slots]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = dict(super().get_fields())  # type: ignore[misc]
        order = getattr(getattr(self, "Meta", None), "fields", None) or [*fields, *self.extension_slots]
        registered = _fields[self.extension_group]
        fields.update(
            {
                name: registered[name]()
                for name in self.extension_slots
                if name in registered and name in order
            }
        )
        return {name: fields[name] for name in order if name in fields}


class ComputedField(serializers.Field):
    """A read-only field computed from the whole object: `compute(obj, request=...)`; `schema` is what
    the OpenAPI schema shows for it (a field or serializer, as extend_schema_field takes)."""

    def __init__(self, compute: Callable[..., Any], *, schema: Any, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)
        self.compute = compute
        extend_schema_field(schema)(self)

    def to_representation(self, value: Any) -> Any:
        return self.compute(value, request=self.context.get("request"))
