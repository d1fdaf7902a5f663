"""Pure clinical core: the domain model and the criteria. Imports neither Flask nor FHIR."""
