"""Tools for the developers of authconform (not used by a run of the suite)."""
