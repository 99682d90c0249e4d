"""The terminal UI: one screen per area (screens/), the widgets they share (widgets/), and the
glue that carries service streams onto Textual's loop. Only the app imports it."""
