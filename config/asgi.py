import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from mgeplatform.origins import OriginValidator  # noqa: E402
from mgeplatform.security import TrustedProxyMiddleware  # noqa: E402


async def lifespan(scope, receive, send):
    """Startup and shutdown: the model clients this process made are closed
    on shutdown (uvicorn sends these events; other servers may not)."""
    from mgeplatform.llm.gateway import aclose_clients  # models load only after Django is set up

    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await aclose_clients()
            await send({"type": "lifespan.shutdown.complete"})
            return


# Outermost: the client's address is settled (X-Forwarded-For only from
# TRUSTED_PROXIES) before Django or Channels look at it.
application = TrustedProxyMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "lifespan": lifespan,
            # Origin checked with scheme and port (mgeplatform/origins.py), not just the host name.
            # Sessions only: participant sockets never use scope["user"], and resolving it loaded the
            # session on the process's one database thread before the consumer could accept.
            "websocket": OriginValidator(SessionMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)

# Everything made while starting (Django, the apps, their modules: about
# 200,000 objects) lives as long as the process. Left in the collector's
# oldest generation, each full collection walked all of it, a 70-80 ms pause
# of every socket in the process now and then under load; frozen, the
# collector skips it.
gc.freeze()
