"""``WEBOS_SERVICE_POLICIES``: a caller process's own overrides of the services' call policies.

The manifest's ``[services.NAME]`` is the deployment-wide policy (every caller reads it); this
variable changes it for the processes it is set in, e.g. a gateway that must answer HTTP sooner
than a worker: ``WEBOS_SERVICE_POLICIES='{"billing": {"timeout": 1.5}}'``, with the keys of a
``[services.NAME]`` table. It wins over the manifest.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kernel.config import WebOSSettings
from kernel.modules import ServiceOptions


class ServicesSettings(WebOSSettings):
    model_config = SettingsConfigDict(env_prefix="WEBOS_SERVICE_")

    policies: dict[str, ServiceOptions] = Field(
        default_factory=dict,
        description="JSON: service name -> the keys of a [services.NAME] table, for this process.",
    )
