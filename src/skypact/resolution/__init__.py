"""Resolution: coordinated manoeuvre advice for the aircraft of a conflict."""
