"""Project configuration: settings, URLs, ASGI entry point and websocket routes.

The top of the layering: it may import every app; no app imports it."""
