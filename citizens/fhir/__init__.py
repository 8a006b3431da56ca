"""The FHIR R4 read API (``/fhir/<type>``): the portal's data as the resources hospitals',
municipalities' and home-monitoring systems already read, behind the same access gate as every
other read.

It lives in ``citizens`` because the gate does: each app registers the resource types it owns
(``registry.register``) from its ``AppConfig.ready()``, and this package serves them. The
CapabilityStatement is generated from the same registry, so it cannot list what is not served.
"""
