"""System checks of the platform's own settings (run by `manage.py check`,
`migrate` and every server start)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}


def site_url_is_local(site_url: str) -> bool:
    """SITE_URL is unset or names this machine (the development default)."""
    return (urlsplit((site_url or "").strip()).hostname or "") in LOCAL_HOSTS


@checks.register(checks.Tags.compatibility)
def check_site_url(app_configs=None, **kwargs):
    """Follow-up links and other links the platform sends are built on
    SITE_URL: outside development it must be the public address."""
    if settings.DEBUG or getattr(settings, "DEV", False):
        return []
    site_url = getattr(settings, "SITE_URL", "")
    if site_url_is_local(site_url):
        return [
            checks.Warning(
                f"SITE_URL is {site_url or 'unset'!r}: the follow-up links the platform sends participants would point "
                "at this machine, not the public site.",
                hint="Set SITE_URL to the public base URL, e.g. https://mge.example.org.",
                id="mge.W001",
            )
        ]
    return []
