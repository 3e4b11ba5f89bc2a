"""`qtiexport preview`: the course served on 127.0.0.1 while the author edits it.

site.py renders the packages' files in memory, case by case; pages.py turns them into
the preview's HTML pages (the simulated LMS, the items, the manifests); server.py serves
both, watches the course folder and tells open pages to reload. Nothing is written to
disk: not into the course, not into `build/`.
"""
