from django.core.management.base import BaseCommand, CommandError

from privacy.rights.erasure import ErasureBlocked
from privacy.rights.staff_actions import PersonNotFound, person_erase


class Command(BaseCommand):
    help = "Erase a person (account or guest email) now, applying the personal-data registry (staff use)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--force", action="store_true",
                            help="Erase even with open orders or returns (e.g. a guardian's request).")

    def handle(self, *args, email, force, **options):
        try:
            report = person_erase(email=email, force=force)
        except PersonNotFound as exc:
            raise CommandError(str(exc)) from None
        except ErasureBlocked as exc:
            raise CommandError(f"Not erased: {exc}. Use --force only with a documented reason.") from None
        for label, n in sorted(report.deleted.items()):
            self.stdout.write(f"deleted     {n:6d}  {label}")
        for label, n in sorted(report.anonymised.items()):
            self.stdout.write(f"anonymised  {n:6d}  {label}")
        for line in report.processors:
            self.stdout.write(f"processor   {line}")
