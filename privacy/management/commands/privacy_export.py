from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from privacy.rights.staff_actions import NothingHeld, PersonNotFound, person_export_to_file


class Command(BaseCommand):
    help = "Export everything the shop holds about a person (account or guest email) as a ZIP (staff use)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--output", required=True, help="Path of the ZIP to write (keep it private).")

    def handle(self, *args, email, output, **options):
        path = Path(output)
        try:
            count = person_export_to_file(email=email, path=path)
        except (PersonNotFound, NothingHeld) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Wrote {count} records to {path} (mode 0600).")
