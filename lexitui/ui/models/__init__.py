"""The Models area: installed and shared-library models, disk use, cleanup suggestions."""
