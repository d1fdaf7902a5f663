"""FHIR R4 JSON (as EHRs send it) to the domain model of ``criteria``."""

from fhir_mappers.errors import PrefetchShapeError
from fhir_mappers.options import MapperOptions
from fhir_mappers.timeline import build_timeline

__all__ = ["MapperOptions", "PrefetchShapeError", "build_timeline"]
