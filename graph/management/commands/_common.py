from django.core.management.base import CommandError

from studies import selectors


def study_or_error(slug: str):
    study = selectors.get_study(slug)
    if study is None:
        raise CommandError(f"No study with slug {slug!r}.")
    return study
