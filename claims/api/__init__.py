"""The REST API (/api/v1/): token authentication, the same roles and scoping as the pages."""
