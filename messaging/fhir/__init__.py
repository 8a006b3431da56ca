"""MedCom FHIR messaging (R4, through ``fhir.resources.R4B``): message bundles out, $process-message in."""
