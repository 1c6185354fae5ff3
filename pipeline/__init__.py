"""Ingest: readers, validation, quarantine and writers to both stores."""
