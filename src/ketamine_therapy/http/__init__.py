"""What the JSON API (``api/``) and the web pages (``web/``) share at the HTTP edge: the application context,
who is asking (session token, CSRF), errors as problems, pagination, optimistic locking (``ETag``/``If-Match``)
and the middleware around every response. No routes live here; no use case either (those are ``services/``)."""
