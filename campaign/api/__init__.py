"""The JSON API: Action Network's v2 API (OSDI) at ``/api/v2/``, tokens and webhooks."""
