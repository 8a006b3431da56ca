"""The home-monitoring resource types of the FHIR API (``citizens.fhir`` serves them):
Observation (read, search, and writes from devices and home-monitoring systems) and Flag (the
alerts the measurements raise). Registered from ``CareplansConfig.ready()``."""

from __future__ import annotations


def register_monitoring_types() -> None:
    from citizens.fhir.registry import register

    from .flag import FLAG
    from .observation import observation_type
    from .observation_pages import observations_of_citizen
    from .writes import observation_create, observation_create_entries

    register(observation_type(observation_create, observation_create_entries, observations_of_citizen))
    register(FLAG)
