"""The participant pages the base layer sends people to but does not draw
(the study link, consent, the step page): the orchestration layer names their
URLs in its ready(), so nothing here names a higher layer's URLs."""

from django.urls import reverse

_URL_NAMES: dict[str, str] = {}


def register(**url_names: str) -> None:
    """The URL name (as reverse() takes it) of each page: entry, consent, journey."""
    _URL_NAMES.update(url_names)


def url(page: str, slug: str) -> str:
    if page not in _URL_NAMES:
        raise LookupError(f"no app registered the {page!r} page (journey does, in its ready())")
    return reverse(_URL_NAMES[page], kwargs={"slug": slug})
