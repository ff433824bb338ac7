"""Session runners: the glue between a session and the media parts of `recorder/`.

A runner drives one session through its `SessionControl` (the session manager applies every
change) and turns what the recorder reports — the bot's Outcome, media errors — into the
product's statuses and codes.
"""
