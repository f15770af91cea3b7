"""`manage.py backup`: a consistent copy of the database while the shop runs."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telephony import backup


class Command(BaseCommand):
    help = (
        "Copy the database while the shop runs (SQLite's online backup; pg_dump for "
        "PostgreSQL) into BACKUP_DIR, keeping the newest BACKUP_KEEP copies."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=settings.BACKUP_DIR, help="where copies go")
        parser.add_argument(
            "--keep", type=int, default=settings.BACKUP_KEEP, help="copies kept (newest)"
        )

    def handle(self, dir, keep, **options):
        if keep < 1:
            raise CommandError("--keep must be at least 1")
        try:
            path = backup.back_up(dir, keep)
        except Exception as exc:  # a failed backup must say so and exit non-zero (cron)
            raise CommandError(f"Backup failed: {exc}") from exc
        size = path.stat().st_size
        self.stdout.write(f"Backed up to {path} ({size // 1024} KiB); kept {keep} newest.")
