"""What Django, allauth and the templates reach by name, so vulture cannot see it used.

Reviewed by hand: model fields and choices (read by the ORM, forms, admin and templates), template
attributes, form fields, and the classes and functions that settings name. Regenerate with
`vulture --make-whitelist` and review every new line: dead code does not belong here."""
# ruff: noqa

# config/admin.py: the admin site class, named in config.apps.ShopAdminConfig.default_site
ShopAdminSite
_.has_permission

# config/limits_middleware.py: set for Django's WSGIRequest, which reads its body through _stream
_._stream

# config/logs.py: LOGGING_CONFIG names configure; settings.LOGGING the JSON formatter and its filter
configure
JsonFormatter
RequestId

# config/gunicorn.py: gunicorn's settings, read by name (gunicorn -c python:config.gunicorn)
accesslog
control_socket_disable
logconfig_dict

# config/middleware.py: named in settings.MIDDLEWARE
HostileInputGuard

# orders/forms.py: read by templates, forms or the ORM by name
order_reference
_.required

# orders/models.py: model fields and choices
shipping_name
shipping_line1
shipping_line2
shipping_city
shipping_postal_code
shipping_region
shipping_country
subtotal
shipping_cost
duties
shipped_at
completed_at
cancelled_at
_.is_paid
updated_at
sent_at
attempts
last_error
refusal_reason
decided_at
refunded_at
CLOSED
updated_at
from_staff
staff_user

# orders/notifications/emails.py: read by templates, forms or the ORM by name
_.sent_at
_.attempts
_.sent_at
_.last_error

# orders/returns/services.py: read by templates, forms or the ORM by name
_.decided_at
_.decided_at
_.refusal_reason

# orders/services.py: read by templates, forms or the ORM by name
_.subtotal
_.updated_at

# orders/views.py: read by templates, forms or the ORM by name
_.disabled

# privacy/admin/incidents.py: read by templates, forms or the ORM by name
_.created_by

# privacy/consent/forms.py: read by templates, forms or the ORM by name
preferences
marketing_email

# privacy/consent/marketing.py: the newsletter's sending API (tested; a campaign calls it)
send_marketing

# privacy/context_processors.py: named in settings.TEMPLATES
privacy

# privacy/keys/rotation.py: read by templates, forms or the ORM by name
_.rows_done

# privacy/models/consent.py: model fields and choices
SYSTEM

# privacy/models/incidents.py: model fields and choices
LOW
CRITICAL
severity
remedial_steps
advice
users_notified_at
created_by

# privacy/models/policy.py: model fields and choices
summary

# privacy/models/processors.py: model fields and choices
subject_user

# privacy/models/protection.py: model fields and choices
rows_done

# privacy/models/retention.py: model fields and choices
expires_at

# privacy/models/rights.py: model fields and choices
lifted_at
RECTIFICATION
OBJECTION
COMPLAINT
QUESTION
STAFF
GUARDIAN_DOCUMENTS
extended_reason
refusal_reason
last_reminder_at
expires_at

# privacy/protection/throttle.py: RATELIMIT_IP_META_KEY names it
ratelimit_ip

# privacy/rights/dashboard.py: the privacy page's parts, read by templates/privacy/dashboard.html
_.purposes
_.bases
_.kept
_.descriptions
_.about
_.empty
_.short

# privacy/rights/forms.py: read by templates, forms or the ORM by name
_.required

# privacy/rights/subject_requests.py: read by templates, forms or the ORM by name
_.extended_reason
_.refusal_reason

# shop/adapters.py: allauth calls its adapter's methods by name
_._get_login_attempts_cache_key
_.send_mail

# shop/context_processors.py: named in settings.TEMPLATES
shop

# shop/forms.py: ACCOUNT_SIGNUP_FORM_CLASS names the form; allauth calls signup()
SignupForm
adult
_.signup

# shop/models.py: model fields and choices
adult_confirmed_at
inactivity_warned_at
signup_policy
position
_.in_stock
updated_at

# shop/selectors.py: read by templates, forms or the ORM by name
_.subtotal
_.has_problems

# shop.models.Product.search_vector: filled by a PostgreSQL trigger (shop 0006), read by the search query
search_vector  # noqa
# privacy/models/holds.py, privacy/admin/holds.py, privacy/rights/subjects.py: legal holds' fields,
# choices and form fields, read by the ORM, the admin and templates/privacy/includes/holds.html
CHARGEBACK
FRAUD
LEGAL_CLAIM
REGULATOR
placed_at
person_email
until
# shop/adapters.py: allauth calls it by name through ACCOUNT_USER_DISPLAY
_.user_display
# privacy/protection/stream.py: EncryptingWriter.flush is called by zipfile and io code on a file object
flush
# privacy/retention/fading.py: Fading.waiting_for is read by templates/privacy/includes/_fading.html
_.waiting_for
# privacy/models/rights.py: PrivacyRequest.scope (a partial erasure's kind), read by the admin and
# templates/privacy/request_detail.html
scope
# privacy/protection/storage*.py: the private storage's backends, named by STORAGES in config/settings.py
PrivateFileSystemStorage
PrivateS3Storage
# orders/views.py: django-csp reads these per-response attributes (the payment page widens script/frame sources)
_._csp_update
_._csp_replace

# privacy/protection/keystore.py: the router Django calls by name (settings.DATABASE_ROUTERS); the
# cache reset the tests and an operator's shell use after restoring a key store
_.erased_at  # privacy/models/keys.py: Tombstone field, read by name
KeyStoreRouter
_.allow_migrate
_.db_for_write
forget_cache
# privacy/consent/forms.py: MarketingTickForm.gpc_confirm (a form field, read by Django) and gpc_question (read by
# templates/includes/marketing_tick.html)
_.gpc_confirm
gpc_confirm
_.gpc_question
# shop/sessions.py: the SessionStore method Django's database store calls by name, and its attribute;
# the message storage named in settings.MESSAGE_STORAGE
NoticeStorage
_._get_session_from_db
_._session_key
# privacy/protection/signin.py: the sealed sign-in email field's hooks Django calls by name, and the
# column rewrites its migrations (shop 0010, privacy 0022) run
_.prepare_rhs
_.from_db_value
seal_column
open_column
_.output_field  # signin.Head: Django reads a Func's function and output field by name
_.function
_.as_postgresql  # and calls as_<vendor> by name
