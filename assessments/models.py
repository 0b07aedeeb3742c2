"""Assessment cycles and assessments (the workflow arrives with the assessment-cycles issue)."""
