"""The three parts of `python -m bench.load` (review app, intake API, hospitals' claims end to end) and
what they share; a package, not `bench/*.py` modules, because every module there is a bench of its own."""
