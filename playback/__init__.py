"""Playback: the read API over the track store, reconstruction of dispatch flows, pages and consumers."""
