"""Qt widgets of Meeting Buddy: main window, session views, settings, tray."""
