import json
import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from mgeplatform import services

DEMO_ACCOUNTS = [("coordinator@example.org", "coordinator"), ("auditor@example.org", "auditor")]


class Command(BaseCommand):
    help = (
        "Development only: make a demo coordinator and auditor and write their passwords to "
        "var/demo-credentials.json (kept across runs)."
    )

    def handle(self, *args, **options):
        path = settings.BASE_DIR / "var" / "demo-credentials.json"
        saved = json.loads(path.read_text()) if path.exists() else {}
        for email, role in DEMO_ACCOUNTS:
            password = saved.get(email) or secrets.token_urlsafe(12)
            services.upsert_staff_user(email=email, role=role, password=password)
            saved[email] = password
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(saved, indent=2))
        os.chmod(path, 0o600)
        for email, role in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role:<12} {email}  password: {saved[email]}")
