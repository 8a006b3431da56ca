"""Date and number formats of the portal's two languages (``FORMAT_MODULE_PATH``).

Django's own English formats write 06/12/2026 (month first), which a Danish reader takes for
6 December or 12 June at random; the portal's English therefore writes 6 Dec 2026 and a 24-hour
clock, and its Danish 06.12.2026 with a decimal comma. What is not set here falls back to
Django's formats of the language."""
