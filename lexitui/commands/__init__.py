"""The command-line commands, one module per command group: each adds its parser to
``lexitui.cli`` and assembles only the services its command uses, when it runs."""
