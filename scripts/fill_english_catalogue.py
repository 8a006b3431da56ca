"""English is the source language: after `makemessages`, set every English msgstr to its msgid,
so the catalogue is complete and never keeps a fuzzy guess from a similar message."""

import polib

po = polib.pofile("locale/en/LC_MESSAGES/django.po")
for entry in po:
    if entry.msgid_plural:
        entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
    else:
        entry.msgstr = entry.msgid
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")
    entry.previous_msgid = None
    entry.previous_msgid_plural = None
po.metadata_is_fuzzy = False
po.save()
