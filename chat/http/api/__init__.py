"""The REST API for bots and scripts (docs/api.md), on django-ninja, at /api/v1/
(and /api/ as an alias): app.py is the NinjaAPI, views.py the operations,
schemas.py their bodies, auth.py who is calling, errors.py every refusal as
{"code", "detail"}, urls.py the URL patterns. The OpenAPI document is
generated from the code and served at /api/v1/schema/."""
