"""Datasette over the archive: the plugin that searches articles through the archive's own
search (:mod:`.plugin`), and the metadata that labels its tables and views (:mod:`.metadata`)."""
