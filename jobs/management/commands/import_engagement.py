import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.database import require_database
from jobs.services import InvalidInput
from jobs.services.engagement import engagement_record

COLUMNS = ("analytics_id", "platform", "views", "likes", "shares", "watch_time_s", "reported_at")


class Command(BaseCommand):
    help = ("Read posts' engagement figures from a CSV file with the columns " + ", ".join(COLUMNS)
            + " (header first; likes, shares, watch_time_s and reported_at may be empty). All rows are saved, or "
              "none: a wrong row is named with its field.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the CSV file, or - for standard input")
        parser.add_argument("--platform", help="for files without a platform column: the platform of every row")

    def handle(self, *args, file: str, platform: str | None, **options) -> None:
        require_database()
        try:
            text = self.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text: export the sheet as CSV UTF-8") from None
        reader = csv.DictReader(text.splitlines())
        header = [name.strip() for name in reader.fieldnames or []]
        if "analytics_id" not in header or "views" not in header:
            raise CommandError(f"{file} needs a header row with at least analytics_id and views "
                               f"(the columns: {', '.join(COLUMNS)}); it has {', '.join(header) or 'none'}")
        rows = []
        for row in reader:
            if None in row:
                raise CommandError(f"row {reader.line_num} has more cells than the header has columns")
            cleaned = {key.strip(): (value or "").strip() for key, value in row.items()}
            if platform and not cleaned.get("platform"):
                cleaned["platform"] = platform
            rows.append({key: value for key, value in cleaned.items() if value != "" or key == "views"})
        try:
            result = engagement_record(reports=rows, where=lambda index: f"row {index + 2}")
        except InvalidInput as exc:
            raise CommandError("nothing was saved:\n" + "\n".join(
                f"  {where}: {', '.join(problems)}" for where, problems in exc.errors.items())) from None
        self.stdout.write(f"{result['saved']} post(s) saved, {result['older_than_kept']} older than the figures kept")
