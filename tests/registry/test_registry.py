import pytest

from kernel.registry import Registry, ServiceAlreadyRegistered, ServiceNotFound


class EmailService:
    async def send(self, to: str) -> str:
        return f"sent to {to}"


def test_get_by_name_and_by_type() -> None:
    registry = Registry()
    impl = EmailService()
    registry.register("email_service", impl)
    assert registry.get("email_service") is impl
    assert registry.get(EmailService) is impl


def test_register_by_type_uses_snake_case_name() -> None:
    registry = Registry()
    registry.register(EmailService, EmailService())
    assert "email_service" in registry.names()


def test_unknown_name_lists_what_is_registered() -> None:
    registry = Registry()
    registry.register("email_service", EmailService())
    registry.register("greeter", object())
    with pytest.raises(ServiceNotFound, match="billing") as caught:
        registry.get("billing")
    assert "email_service, greeter" in str(caught.value)


def test_duplicate_name_is_refused_unless_replaced() -> None:
    registry = Registry()
    registry.register("a", 1, module="first")
    with pytest.raises(ServiceAlreadyRegistered, match="first"):
        registry.register("a", 2)
    registry.register("a", 3, replace=True)
    assert registry.get("a") == 3


def test_fresh_registries_share_nothing() -> None:
    one, two = Registry(), Registry()
    one.register("x", 1)
    with pytest.raises(ServiceNotFound):
        two.get("x")


def test_prefer_local_false_returns_the_proxy_although_the_service_runs_here() -> None:
    registry = Registry()
    impl, proxy = EmailService(), object()
    registry.register("email_service", impl)
    registry.declare_remote("email_service", proxy)
    assert registry.get("email_service") is impl
    assert registry.get("email_service", prefer_local=False) is proxy


def test_prefer_local_false_without_a_proxy_says_why() -> None:
    registry = Registry()
    registry.register("email_service", EmailService())
    with pytest.raises(ServiceNotFound, match="registered in this process, not declared"):
        registry.get("email_service", prefer_local=False)
    with pytest.raises(TypeError, match="needs a service name"):
        registry.get(EmailService, prefer_local=False)
