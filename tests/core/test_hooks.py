from backend.core.hooks import HookList


def first(**kwargs):
    return "first"


def second(**kwargs):
    return "second"


def test_hooks_run_in_registration_order_and_register_once():
    hooks = HookList()
    hooks.register(first)
    hooks.register(second)
    hooks.register(first)  # an AppConfig.ready run twice
    assert [hook() for hook in hooks] == ["first", "second"]
