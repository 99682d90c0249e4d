"""The terminal UI: one folder per area (its screen, panels, dialogs, formatting), the shell every
area shares, the widgets several use (widgets/), the app, and the glue that carries service
streams onto Textual's loop."""
