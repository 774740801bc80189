"""The REST API for bots and scripts (docs/api.md): views.py answers,
schema.py describes it (OpenAPI 3, served at /api/schema/)."""
