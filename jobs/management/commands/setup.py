import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from jobs.files import bucket_cors_ensure
from jobs.schedules import ensure_schedules
from previews.access import desk_groups_ensure


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
        password_file = settings.BASE_DIR / "var" / "admin-password.txt"
        user_model = get_user_model()
        if not user_model.objects.filter(username=username).exists():
            password = secrets.token_urlsafe(12)
            user_model.objects.create_superuser(username=username, email="", password=password)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        shown = (password_file.read_text().strip() if password_file.exists()
                 else "(unchanged; set it with `manage.py changepassword`)")
        self.stdout.write(f"Log in as {username!r} with password {shown!r} (kept in {password_file}).")
