"""The llama.cpp engines lexitui runs: every engine process has one owner, this package.

Kinds (``kinds``): the embedded engine (xllamacpp in a child process, the CPU default that works
on a fresh install) and llama.cpp's own ``llama-server`` binary (found, named, or built by
``lexitui engine build``, the way to a GPU). ``process`` starts one engine and waits until it is
healthy; ``supervisor`` keeps one running, notices its exit and writes the state file (``state``)
through which other lexitui processes see it (``lexitui ps``, ``lexitui backends``);
``devices`` says which devices each installed engine can really use.

Service layer: imports neither the runtime nor the backends, which both start engines through it.
"""
