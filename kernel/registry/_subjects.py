"""The subjects of service calls: ``webos.svc.<service>.<method>``."""

SUBJECT_PREFIX = "webos.svc"


def method_subject(service: str, method: str) -> str:
    return f"{SUBJECT_PREFIX}.{service}.{method}"
