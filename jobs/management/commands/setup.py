import re
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from core.access import desk_groups_ensure
from core.store import bucket_cors_ensure
from jobs.schedules import ensure_schedules


def admin_password_file() -> Path:
    """Where setup keeps the first admin's password: one file per database, so setting up a second database
    (PostgreSQL beside the embedded SQLite) does not overwrite the first one's."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3") and Path(str(db["NAME"])).resolve() == (
            settings.BASE_DIR / "var" / "db.sqlite3").resolve():
        return settings.BASE_DIR / "var" / "admin-password.txt"  # the embedded default, as the README says
    where = re.sub(r"[^a-z0-9]+", "-", f"{db.get('HOST') or 'local'}-{db.get('PORT') or ''}-{db['NAME']}".lower())
    return settings.BASE_DIR / "var" / f"admin-password-{where.strip('-')[-80:]}.txt"


class Command(BaseCommand):
    help = ("Migrate, load the shipped presets, schedule the watchdog, make the desk's groups (reviewer, designer, "
            "desk admin), let the review page read the bucket (object storage) and make sure a staff user exists.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_presets", verbosity=options["verbosity"])
        ensure_schedules()
        if origins := bucket_cors_ensure():
            self.stdout.write("Object store: the review page may read the bucket from " + ", ".join(origins))
        groups = desk_groups_ensure()
        self.stdout.write("Desk groups: " + ", ".join(f"{name} ({count} permissions)"
                                                      for name, count in groups.items()))
        password_file = admin_password_file()
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(username=username, email="", password=password)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        kept = password_file.read_text().strip() if password_file.exists() else ""
        # Only a password that logs in is printed: one kept for another database, or changed since, is not.
        if kept and user.check_password(kept):
            self.stdout.write(f"Log in as {username!r} with password {kept!r} (kept in {password_file}).")
        else:
            self.stdout.write(f"Log in as {username!r} with the password you set (to set another: "
                              f"`manage.py changepassword {username}`).")
