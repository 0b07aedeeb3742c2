"""Calibration: fair final levels across supervisors (sessions, rater statistics, adjustments)."""
