"""Staff accounts and roles."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from mgeplatform import events, roles
from mgeplatform.audit import record_event

ROLE_GROUPS = {"coordinator": roles.COORDINATORS, "auditor": roles.AUDITORS}


@transaction.atomic
def upsert_staff_user(*, email: str, role: str, password: str | None = None, created_by=None):
    """Create or update a staff account with exactly one role."""
    if role not in ROLE_GROUPS:
        raise ValueError(f"role must be one of {sorted(ROLE_GROUPS)}")
    email = email.strip().lower()
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User(username=email[:150], email=email)
    user.is_staff = True
    user.is_active = True
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=ROLE_GROUPS[role])])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"primary": True, "verified": True}
    )
    record_event(events.STAFF_ROLE_SET, user=created_by, subject=user,
                 payload={"email": email, "role": role, "created": created})
    return user
