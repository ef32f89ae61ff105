# Order.legal_hold (free text) becomes privacy's LegalHold, which has a kind, a legal basis, an
# expiry and an owner, and covers the order's payments and lines too.
from datetime import timedelta

from django.db import migrations
from django.utils import timezone


def holds_from_text(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    LegalHold = apps.get_model("privacy", "LegalHold")
    for pk, user_id, reference, text in Order.objects.exclude(legal_hold="").values_list(
            "pk", "user_id", "reference", "legal_hold"):
        dispute = "dispute" in text.lower()
        LegalHold.objects.create(
            target="order", order_id=pk, user_id=user_id, reference=reference,
            kind="payment_dispute" if dispute else "legal_claim", reason=text,
            legal_basis="Defending a payment dispute" if dispute else "Legal claim (carried over; review it)",
            expires_at=timezone.now() + timedelta(days=180))


def text_from_holds(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    LegalHold = apps.get_model("privacy", "LegalHold")
    for order_id, reason in LegalHold.objects.filter(target="order", lifted_at__isnull=True).values_list(
            "order_id", "reason"):
        Order.objects.filter(pk=order_id).update(legal_hold=reason[:120])


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0007_order_order_not_anonymised'),
        ('privacy', '0015_legal_holds'),
    ]

    operations = [
        migrations.RunPython(holds_from_text, text_from_holds),
        migrations.RemoveField(
            model_name='order',
            name='legal_hold',
        ),
    ]
