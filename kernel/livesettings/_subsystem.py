"""Saved settings applied without a restart, in every process running a module's code.

At start, for each module this process runs with a ``settings.py`` model, the saved values are
read and ``module.settings`` rebuilt (environment over saved over default), before the modules'
startup hooks. Then the process listens to ``webos.settings.updated``, which every writer emits
after saving (it names the module and fields, never values, so every module's NATS user may hear
it): the module's key is read again (a notice is only a trigger; the latest revision wins,
whatever order notices arrive in), validated
by the module's model, and a new settings object replaces the old one, after which the module's
``@on_settings_changed`` function, if any, is awaited with both. A value this process's code
refuses (saved by another version) is logged and the current settings kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from nats.errors import TimeoutError as NatsTimeout

from kernel.bus import Bus
from kernel.contracts import Host, Role
from kernel.livesettings._editor import UPDATED
from kernel.livesettings._fields import SettingsInvalid, build
from kernel.livesettings._store import Saved, open_bucket, read_key
from kernel.modules import SETTINGS_CHANGED, SETTINGS_ENVIRONMENT, LoadedModule, ModuleSet
from kernel.transport import JetStreamSettings, retry_delay

log = logging.getLogger("webos.livesettings")


class _Follower:
    """One module's settings in this process."""

    def __init__(self, module: LoadedModule, js: Any) -> None:
        self.module = module
        self._js = js
        self._applied = -1
        self._lock = asyncio.Lock()

    async def refresh(self, *, notify: bool) -> None:
        async with self._lock:  # notices may overlap; each reads the latest and applies once
            saved = await read_key(self._js, self.module.name)
            if saved.revision <= self._applied:
                return
            await self._apply(saved, notify=notify)

    async def _apply(self, saved: Saved, *, notify: bool) -> None:
        context = self.module.context
        old = context.settings
        if old is None:
            return
        try:
            environment = self.module.extras.get(SETTINGS_ENVIRONMENT, {})
            new = build(type(old), self.module.name, saved.values, environment)
        except SettingsInvalid as error:
            log.error(
                "saved settings of %r not applied, kept the current ones: %s",
                self.module.name,
                error,
            )
            self._applied = saved.revision
            return
        context.settings = new
        self._applied = saved.revision
        hook = self.module.extras.get(SETTINGS_CHANGED)
        if notify and hook is not None and saved.fields:
            try:
                await hook(old, new)
            except Exception:  # the change applies; the module's own reaction failed
                log.exception("module %r: @on_settings_changed failed", self.module.name)
        if notify:
            log.info(
                "settings of %r changed by %s: %s",
                self.module.name,
                saved.by or "?",
                ", ".join(saved.fields) or "reset",
            )


class LiveSettingsSubsystem:
    """Applies saved module settings in this process (see the module docstring)."""

    name = "livesettings"

    def __init__(self) -> None:
        self._followers: dict[str, _Follower] = {}
        self._subscription: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._failed: str | None = None

    async def start(self, host: Host) -> None:
        running = host.get(ModuleSet).running.values()
        chosen = [module for module in running if module.context.settings is not None]
        if not chosen:
            return
        nats = host.get(Bus).nats
        js = nats.jetstream()
        if host.role is Role.GATEWAY:
            # JetStream answers no direct get of a stream that does not exist (the request times
            # out): the gateway creates the bucket before anyone reads it.
            await open_bucket(js, host.get(JetStreamSettings).replicas)
        self._followers = {module.name: _Follower(module, js) for module in chosen}
        # Listen first, then read: a change saved in between is not missed.
        self._subscription = await nats.subscribe(UPDATED, cb=self._on_notice)
        for follower in self._followers.values():
            try:
                await follower.refresh(notify=False)
            except NatsTimeout:
                # No bucket yet (no gateway has started): start with the environment's values,
                # and read the saved ones once the bucket answers.
                log.warning(
                    "saved settings of %r not readable yet (no gateway has created %s); "
                    "starting with the environment's and defaults, retrying",
                    follower.module.name,
                    "WEBOS_MODULE_SETTINGS",
                )
                self._failed = f"saved settings of {follower.module.name!r} not read yet"
                self._spawn(self._retry(follower))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work, name="webos-livesettings")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _retry(self, follower: _Follower) -> None:
        attempt = 0
        while True:
            attempt += 1
            await asyncio.sleep(retry_delay(attempt, 0.5, 10.0))
            try:
                await follower.refresh(notify=True)
            except NatsTimeout:
                continue
            self._failed = None
            log.info("saved settings of %r read", follower.module.name)
            return

    async def _on_notice(self, message: Any) -> None:
        try:
            module = json.loads(message.data)["module"]
        except (ValueError, TypeError, KeyError):
            log.warning("ignored a malformed %s notice: %r", UPDATED, message.data[:200])
            return
        follower = self._followers.get(module) if isinstance(module, str) else None
        if follower is None:
            return  # a module this process does not run
        self._spawn(self._refresh(follower))

    async def _refresh(self, follower: _Follower) -> None:
        try:
            await follower.refresh(notify=True)
            self._failed = None
        except Exception as error:
            self._failed = f"settings of {follower.module.name!r} not re-read: {error}"
            log.warning("%s", self._failed)

    async def stop(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            try:
                await subscription.unsubscribe()
            except Exception as error:  # the connection may be closing already
                log.debug("settings subscription not ended: %s", error)
        for task in list(self._tasks):
            task.cancel()
        self._followers.clear()

    async def check(self) -> str | None:
        return self._failed
