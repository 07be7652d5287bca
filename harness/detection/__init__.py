"""Detection: verdicts against specs, the excursion test, change points, the alert rules
and the scheduled scans. All but the scans (which read the history through storage/) are
pure: numbers and catalog definitions in, findings out."""
