from django.core.management.base import BaseCommand, CommandError

from privacy.audit.log import audit_verify
from privacy.models import AccessLogEntry


class Command(BaseCommand):
    help = "Verify the access log's hash chain; fails and names the rows that were edited or removed."

    def handle(self, *args, **options):
        problems = audit_verify()
        if problems:
            for problem in problems:
                self.stderr.write(f"TAMPERED {problem}")
            raise CommandError(f"The access log was tampered with ({len(problems)} problem(s)).")
        self.stdout.write(f"Access log intact: {AccessLogEntry.objects.count()} entries verified.")
