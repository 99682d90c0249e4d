"""Downloads: the queue Discover hands variants to; the verified downloader builds on it."""
