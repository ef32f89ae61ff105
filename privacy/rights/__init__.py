"""The rights of the people whose data we hold: dashboard, export, erasure, restriction,
objection, and requests on their clocks."""
