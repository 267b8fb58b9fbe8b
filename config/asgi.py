import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from mgeplatform.origins import OriginValidator  # noqa: E402
from mgeplatform.security import TrustedProxyMiddleware  # noqa: E402

# Outermost: the client's address is settled (X-Forwarded-For only from
# TRUSTED_PROXIES) before Django or Channels look at it.
application = TrustedProxyMiddleware(ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin checked with scheme and port (mgeplatform/origins.py), not just the host name.
        "websocket": OriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
))
