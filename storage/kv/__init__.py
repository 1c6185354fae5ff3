"""Sorted key-value backends (LMDB embedded, HBase on a cluster) holding the track tables."""
