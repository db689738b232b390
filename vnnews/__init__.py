"""The vnnews application: the command line (above both ``archive`` and ``crawler``) and
the offline demo (a local server for site snapshots, and the bundled snapshot)."""
