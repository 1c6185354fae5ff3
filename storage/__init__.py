"""Storage backends behind two small interfaces: a sorted key-value store for tracks and a SQL warehouse."""
