"""The Django project: settings, ASGI entry point, home page, search, accounts."""
