"""Meeting Buddy core: models, links, store, session manager, export, settings, API, CLI."""

__version__ = "0.1.0"
