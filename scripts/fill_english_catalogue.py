"""English is the source language: after `makemessages`, copy each msgid into the English
catalogue so it is complete and English wording can be edited without touching code."""

import polib

po = polib.pofile("locale/en/LC_MESSAGES/django.po")
for entry in po:
    if entry.msgid_plural:
        if not any(entry.msgstr_plural.values()):
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
    elif not entry.msgstr:
        entry.msgstr = entry.msgid
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")
po.metadata_is_fuzzy = False
po.save()
