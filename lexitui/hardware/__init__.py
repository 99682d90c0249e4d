"""Hardware detection, live monitoring and model-size recommendations (roadmap v0.16.1e/f/j).

Import from the submodules (``lexitui.hardware.detector``...); this package stays empty so that
``python -m lexitui.commands.hardware`` and bench scripts load only what they use.
"""
