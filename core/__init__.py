"""The house's ground floor, under presets, jobs and previews alike: where files are (this machine's folders and
the object store), the desk's permission rules, the pipeline in force, and the database check commands make.
It imports no other app of the project, only pipeline (below it) and Django; tests/ops/test_layout.py holds
the floors' order."""
