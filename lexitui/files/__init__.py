"""File operations every area shares: writes that are all-or-nothing, chunked copies and hashes
that can be stopped, and the marker that says where the model store lives. Below every area;
imports nothing of lexitui but the standard library."""
