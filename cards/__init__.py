"""Assessments to CDS Hooks cards and FHIR suggestions."""
