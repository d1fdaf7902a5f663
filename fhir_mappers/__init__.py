"""FHIR R4 JSON (as EHRs send it) to the domain model of ``criteria``."""
