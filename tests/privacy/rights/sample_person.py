"""The values the rich_user fixture (conftest.py beside this module) spreads over every table, for
the tests that look for them afterwards: a plain module, so tests never import a conftest."""

VALUES = {
    "email": "margaret.hamilton@apollo.example", "name": "Margaret Hamilton", "phone": "+1 617 555 0199",
    "line1": "77 Massachusetts Avenue", "city": "Cambridgeport", "postal_code": "02139-4307",
    "message": "Please tell me what you keep about my lunar module orders",
    "support": "The lunar lamp flickers at ninety-two percent brightness",
    "return_reason": "Returned because the apollo guidance dial was cracked",
    "attachment": "hamilton-flicker-evidence.png",
}
