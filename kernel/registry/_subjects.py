"""The subjects of service calls: ``webos.svc.<service>.<method>``."""

SUBJECT_PREFIX = "webos.svc"


def method_subject(service: str, method: str) -> str:
    """The subject every instance of ``service`` serves ``method`` on, in one queue group."""
    return f"{SUBJECT_PREFIX}.{service}.{method}"
