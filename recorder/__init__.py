"""Media side of a session: the browser bot, audio sources, screen capture, segment files
and the streaming transcriber. Nothing here imports the UI or the API server."""
