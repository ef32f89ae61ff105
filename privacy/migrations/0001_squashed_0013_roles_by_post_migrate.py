"""Squashes 0001-0013 without their role syncs: the roles are synchronised after every migrate
by a post_migrate receiver (privacy.apps), so a change to the role table needs no migration.
A database migrated to 0013 takes this one as applied."""
from pathlib import Path

import django.db.migrations.operations.special
import django.db.models.deletion
import django.utils.timezone
import django_cryptography.fields
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def default_policy(apps, schema_editor):
    """As 0004: the first policy version, in force from the start (it has nothing to give notice of)."""
    PolicyVersion = apps.get_model("privacy", "PolicyVersion")
    if PolicyVersion.objects.exists():
        return
    now = timezone.now()
    body = (Path(__file__).resolve().parent.parent / "default_policy.md").read_text()
    PolicyVersion.objects.create(version="1.0", title="Privacy policy", body=body, summary="First version.",
                                 material=False, published_at=now, effective_at=now)


class Migration(migrations.Migration):

    replaces = [('privacy', '0001_initial'), ('privacy', '0002_staff_roles'), ('privacy', '0003_consenttext_policyversion_dailypageviews_and_more'), ('privacy', '0004_default_policy'), ('privacy', '0005_sync_roles'), ('privacy', '0006_sync_roles'), ('privacy', '0007_processordeletion_privacyrequest_exportjob'), ('privacy', '0008_sync_roles'), ('privacy', '0009_purgelock_purgerun_purgepostponement'), ('privacy', '0010_sync_roles'), ('privacy', '0011_sync_roles'), ('privacy', '0012_incident_affectedperson'), ('privacy', '0013_sync_roles')]

    dependencies = [
        ("shop", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AccessLogEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('actor_id_snapshot', models.PositiveBigIntegerField(blank=True, null=True)),
                ('actor_role', models.CharField(blank=True, max_length=60)),
                ('action', models.CharField(choices=[('view', 'Viewed a record'), ('list', 'Listed records'), ('search', 'Searched records'), ('reveal', 'Revealed masked values'), ('change', 'Changed a record'), ('export', 'Exported data'), ('delete', 'Deleted data'), ('erase', "Erased a person's data")], max_length=10)),
                ('model_label', models.CharField(max_length=100)),
                ('object_ids', models.JSONField(default=list)),
                ('fields', models.JSONField(default=list)),
                ('subject_user_ids', models.JSONField(default=list)),
                ('reason', django_cryptography.fields.encrypt(models.CharField(blank=True, max_length=300))),
                ('request_id', models.CharField(blank=True, max_length=32)),
                ('prev_hash', models.CharField(max_length=64)),
                ('hash', models.CharField(max_length=64, unique=True)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'access log entry',
                'verbose_name_plural': 'access log',
                'ordering': ['-id'],
                'permissions': [('reveal_personal_data', 'Can reveal masked personal data (with a reason)')],
            },
        ),
        migrations.CreateModel(
            name='AccessLogSubject',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('user_id', models.PositiveBigIntegerField(db_index=True)),
                ('entry', models.ForeignKey(on_delete=django.db.models.deletion.DO_NOTHING, related_name='subjects', to='privacy.accesslogentry')),
            ],
        ),
        migrations.CreateModel(
            name='Disclosure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('processor', models.CharField(db_index=True, max_length=30)),
                ('purpose', models.CharField(max_length=40)),
                ('fields', models.JSONField(default=list)),
                ('country', models.CharField(max_length=2)),
                ('safeguard', models.CharField(max_length=120)),
                ('guest_index', models.CharField(blank=True, db_index=True, max_length=64)),
                ('reference', models.CharField(blank=True, max_length=60)),
                ('subject_user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='disclosures', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='KeyRotationProgress',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('model_label', models.CharField(max_length=100)),
                ('key_fingerprint', models.CharField(max_length=12)),
                ('last_pk', models.BigIntegerField(default=0)),
                ('rows_done', models.BigIntegerField(default=0)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('model_label', 'key_fingerprint'), name='rotation_once')],
            },
        ),
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('last_hash', models.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
                ('anchor_id', models.PositiveBigIntegerField(default=0)),
                ('anchor_hash', models.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name='ConsentText',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hash', models.CharField(max_length=16, unique=True)),
                ('purpose', models.CharField(max_length=30)),
                ('text', models.TextField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name='PolicyVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.CharField(max_length=20, unique=True)),
                ('title', models.CharField(default='Privacy policy', max_length=120)),
                ('body', models.TextField(help_text='Markdown. Sections generated from the code are added below it.')),
                ('summary', models.TextField(blank=True, help_text='What changes, in plain words.')),
                ('material', models.BooleanField(default=False, help_text='Material changes are emailed to registered users.')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('published_at', models.DateTimeField(blank=True, null=True)),
                ('effective_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('notified_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-effective_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='DailyPageViews',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('path', models.CharField(max_length=100)),
                ('views', models.PositiveIntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'path'), name='daily_page_once')],
            },
        ),
        migrations.CreateModel(
            name='MarketingSubscriber',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', django_cryptography.fields.encrypt(models.EmailField(max_length=254))),
                ('email_index', models.CharField(max_length=64, unique=True)),
                ('token', models.CharField(max_length=32, unique=True)),
                ('requested_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('confirmed_at', models.DateTimeField(blank=True, null=True)),
                ('unsubscribed_at', models.DateTimeField(blank=True, null=True)),
                ('user', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='marketing', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='Restriction',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('lifted_at', models.DateTimeField(blank=True, null=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='restrictions', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-started_at'],
            },
        ),
        migrations.CreateModel(
            name='DailyProductViews',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('views', models.PositiveIntegerField(default=0)),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='shop.product')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'product'), name='daily_product_once')],
            },
        ),
        migrations.CreateModel(
            name='ConsentRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('consent_id', models.CharField(blank=True, db_index=True, max_length=32)),
                ('purpose', models.CharField(choices=[('cookies_preferences', 'Preference cookies'), ('cookies_analytics', 'Anonymous statistics'), ('cookies_marketing', 'Marketing cookies'), ('marketing_email', 'Marketing emails'), ('personalisation', 'Recommendations from your browsing')], max_length=30)),
                ('granted', models.BooleanField()),
                ('text_hash', models.CharField(max_length=16)),
                ('channel', models.CharField(choices=[('banner', 'Cookie banner'), ('settings', 'Cookie settings page'), ('gpc', 'Global Privacy Control signal'), ('signup', 'Sign-up form'), ('checkout', 'Checkout form'), ('email_link', 'Link in an email'), ('dashboard', 'Privacy dashboard'), ('system', 'The shop (restriction, erasure)')], max_length=12)),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='consents', to=settings.AUTH_USER_MODEL)),
                ('subscriber', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='consents', to='privacy.marketingsubscriber')),
            ],
            options={
                'ordering': ['-at', '-pk'],
                'indexes': [models.Index(fields=['user', 'purpose', '-at'], name='privacy_con_user_id_4cc720_idx'), models.Index(fields=['consent_id', 'purpose', '-at'], name='privacy_con_consent_27f79c_idx')],
            },
        ),
        migrations.CreateModel(
            name='PolicyAcknowledgement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='policy_acks', to=settings.AUTH_USER_MODEL)),
                ('policy', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='acknowledgements', to='privacy.policyversion')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('user', 'policy'), name='policy_ack_once')],
            },
        ),
        migrations.RunPython(
            code=default_policy,
            reverse_code=django.db.migrations.operations.special.RunPython.noop,
        ),
        migrations.CreateModel(
            name='PrivacyRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('access', 'Access / download'), ('rectification', 'Correction'), ('erasure', 'Erasure'), ('restriction', 'Restriction'), ('objection', 'Objection'), ('complaint', 'Complaint'), ('question', 'Question'), ('guardian', 'Guardian request for a minor')], max_length=20)),
                ('status', models.CharField(choices=[('received', 'Received'), ('in_progress', 'In progress'), ('scheduled', 'Scheduled'), ('deferred', 'Deferred'), ('completed', 'Completed'), ('refused', 'Refused'), ('cancelled', 'Cancelled')], db_index=True, default='received', max_length=20)),
                ('requester_email', django_cryptography.fields.encrypt(models.EmailField(blank=True, max_length=254))),
                ('email_index', models.CharField(blank=True, db_index=True, max_length=64)),
                ('message', django_cryptography.fields.encrypt(models.TextField(blank=True))),
                ('verified_by', models.CharField(choices=[('session', 'Signed in to the account'), ('password', 'Signed in and re-entered the password'), ('email_link', 'Confirmed a link sent to the email'), ('staff', 'Checked by staff'), ('guardian_documents', "Guardian's documents checked by staff"), ('none', 'Not verified yet')], default='none', max_length=20)),
                ('received_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('due_at', models.DateTimeField()),
                ('extended_reason', models.CharField(blank=True, max_length=300)),
                ('refusal_reason', models.CharField(blank=True, max_length=300)),
                ('reply', django_cryptography.fields.encrypt(models.TextField(blank=True))),
                ('scheduled_for', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('closed_at', models.DateTimeField(blank=True, null=True)),
                ('last_reminder_at', models.DateTimeField(blank=True, null=True)),
                ('confirm_token', models.CharField(blank=True, db_index=True, max_length=32)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='privacy_requests', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['due_at'],
                'permissions': [('handle_privacyrequest', 'Can handle privacy requests (reply, extend, refuse, erase)')],
            },
        ),
        migrations.CreateModel(
            name='PurgeRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('dry_run', models.BooleanField(default=False)),
                ('status', models.CharField(default='running', max_length=12)),
                ('counts', models.JSONField(default=dict)),
                ('errors', models.JSONField(default=list)),
                ('seconds', models.FloatField(default=0)),
            ],
            options={
                'ordering': ['-started_at'],
            },
        ),
        migrations.CreateModel(
            name='PurgePostponement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('rule', models.CharField(max_length=60)),
                ('model_label', models.CharField(max_length=100)),
                ('object_id', models.CharField(max_length=40)),
                ('reason', models.CharField(max_length=60)),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='postponements', to='privacy.purgerun')),
            ],
        ),
        migrations.CreateModel(
            name='ExportJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('guest_index', models.CharField(blank=True, db_index=True, max_length=64)),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Being prepared'), ('ready', 'Ready'), ('failed', 'Failed'), ('expired', 'Expired')], default='queued', max_length=10)),
                ('progress', models.PositiveSmallIntegerField(default=0)),
                ('file_name', models.CharField(blank=True, max_length=80)),
                ('size', models.PositiveBigIntegerField(default=0)),
                ('token', models.CharField(max_length=32, unique=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('expires_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='exports', to=settings.AUTH_USER_MODEL)),
                ('request', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='privacy.privacyrequest')),
            ],
            options={
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='ProcessorDeletion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('processor', models.CharField(max_length=30)),
                ('reference', models.CharField(blank=True, max_length=100)),
                ('subject_user_id', models.PositiveBigIntegerField(blank=True, null=True)),
                ('requested_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('outcome', models.CharField(max_length=200)),
            ],
            options={
                'ordering': ['-requested_at'],
            },
        ),
        migrations.CreateModel(
            name='Incident',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=160)),
                ('detected_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('description', django_cryptography.fields.encrypt(models.TextField(help_text='What happened, in plain words.'))),
                ('categories', models.JSONField(default=list, help_text='Registry categories of the data involved.')),
                ('severity', models.CharField(choices=[('low', 'Low: unlikely to harm anyone'), ('high', 'High: likely to harm people — tell them'), ('critical', 'Critical')], default='high', max_length=10)),
                ('remedial_steps', django_cryptography.fields.encrypt(models.TextField(blank=True))),
                ('advice', django_cryptography.fields.encrypt(models.TextField(blank=True, help_text='What affected people should do (goes in the email).'))),
                ('regulator_notified_at', models.DateTimeField(blank=True, null=True)),
                ('users_notified_at', models.DateTimeField(blank=True, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-detected_at'],
            },
        ),
        migrations.CreateModel(
            name='AffectedPerson',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', django_cryptography.fields.encrypt(models.EmailField(blank=True, max_length=254))),
                ('email_index', models.CharField(blank=True, db_index=True, max_length=64)),
                ('notified_at', models.DateTimeField(blank=True, null=True)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='affected', to='privacy.incident')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('incident', 'email_index'), name='affected_once')],
            },
        ),
        migrations.CreateModel(
            name='PurgeLock',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('holder', models.CharField(blank=True, max_length=40)),
                ('expires_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
    ]
