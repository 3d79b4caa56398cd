"""``[services.NAME]`` in ``module.toml``: how callers treat a service, changed without code.

The caller applies a call policy (timeout, retries, breaker, bulkhead), so the override lives in
the manifest: it is read before any code and is the same file in every process that calls the
service. ``kernel.registry`` turns these tables into its ``CallPolicy``; this module only
validates them, so that a typo stops start-up with the file's name.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MethodOptions(BaseModel):
    """``[services.NAME.methods.METHOD]``: what differs for one method."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout: float | None = Field(None, gt=0, description="Seconds one attempt may take.")
    retries: int | None = Field(None, ge=0, le=10, description="Extra attempts (idempotent only).")
    idempotent: bool | None = Field(None, description="Safe to send twice: retries may apply.")


class BreakerOptions(BaseModel):
    """``breaker = {...}``: the circuit breaker of the service in each caller."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failure_ratio: float | None = Field(None, gt=0, le=1)
    window: int | None = Field(None, ge=1, le=1000, description="Last calls counted.")
    min_calls: int | None = Field(None, ge=1, description="Calls in the window before it opens.")
    cooldown: float | None = Field(None, gt=0, description="Seconds open before a trial call.")
    enabled: bool | None = None


class ServiceOptions(MethodOptions):
    """``[services.NAME]``: the service's policy in every caller, for all its methods."""

    concurrency: int | None = Field(None, ge=1, description="Calls in flight per caller.")
    breaker: BreakerOptions | None = None
    methods: dict[str, MethodOptions] = Field(default_factory=dict)
