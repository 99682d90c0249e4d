"""Downloads: the queue Discover hands variants to, and the resumable, verified downloader
(``manager.DownloadManager``, ``lexitui pull``) that fetches, checks and installs them."""
